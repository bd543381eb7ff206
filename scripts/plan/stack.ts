/**
 * A stack's plan: the stack run on the offline engine, and its recorded run turned into the manual steps and
 * the steps of `pulumi up`.
 */
import { ProgramRun, StackSpec, runProgram, stackRunOptions } from "../../engine";
import { manualSteps } from "./manual";
import { Plan, isMode } from "./model";
import { configValue } from "./registrations";
import { planSteps } from "./steps";

/** The plan of a recorded run of `spec`. */
export function buildPlan(run: ProgramRun, spec: StackSpec): Plan {
    const mode = configValue(run, "mode") ?? "protect";
    if (!isMode(mode)) {
        throw new Error(`stack ${spec.name}: unknown mode ${mode}`);
    }
    return {
        stack: spec.name,
        mode,
        file: spec.file,
        clusterName: configValue(run, "clusterName") ?? "",
        resourceCount: run.resources.length,
        manual: manualSteps(run, spec, mode),
        steps: planSteps(run),
    };
}

/** Runs a stack on the offline engine and plans it. `config` overrides its file (e.g. a scaled stack). */
export async function planStack(
    spec: StackSpec,
    config: Parameters<typeof stackRunOptions>[1] = {},
): Promise<{ plan: Plan; run: ProgramRun }> {
    const run = await runProgram(stackRunOptions(spec, config));
    return { plan: buildPlan(run, spec), run };
}
