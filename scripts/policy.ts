/**
 * The offline policy gate: `npm run policy -- <stack>... [--config <file>]`.
 *
 * Runs the real program for each stack on the offline engine (engine/: Pulumi mocks, no cloud, no
 * credentials), hands its recording to the gitops-dr policy pack the way the engine hands resources to an
 * analyzer, prints a table of violations and exits 1 when any is mandatory (2 on a usage or configuration
 * error). Stacks: `prod` and `drill` from their stack files, `recover` from the recover example of
 * engine/stacks.ts; any other name with a `Pulumi.<name>.yaml`, or the path of a `Pulumi.<stack>.yaml` anywhere,
 * with `--source-outputs FILE` for a recover or drill stack (engine/stacks.ts `resolveStack`). `--config` takes a
 * file in `pulumi preview --policy-pack-config` format.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { PackConfig, blocks, evaluatePack, Evaluation } from "../policies/gate/evaluate";
import { analyzedResources } from "../policies/gate/recording";
import { formatTable } from "../policies/gate/table";
import { POLICIES } from "../policies/policies";
import { ProgramRun, RunOptions, runProgram } from "../engine";
import { STACK_REFERENCES, STACK_SECRETS } from "../engine";
import { STACKS, stackRunOptions } from "../engine";
import { stackFailure, takeSourceOutputs, toolStack } from "./stack-arg";

const ROOT = path.resolve(__dirname, "..");

/** The stacks the repository ships, as the gate runs them: the secrets and source-stack outputs they need. */
export const GATED_STACKS: Readonly<Record<string, RunOptions>> = Object.fromEntries(
    Object.entries(STACKS).map(([name, spec]) => [name, stackRunOptions(spec)]),
);

/** How the gate runs a stack: a shipped one as above, another from its stack file. */
export function runOptionsFor(stack: string): RunOptions {
    const shipped = GATED_STACKS[stack];
    if (shipped !== undefined) {
        return shipped;
    }
    if (!fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))) {
        throw new Error(
            `unknown stack "${stack}": not one of ${Object.keys(GATED_STACKS).join(", ")} and no Pulumi.${stack}.yaml`,
        );
    }
    return { stack, secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES };
}

/** Runs the pack over a recorded run. */
export function gateRun(run: ProgramRun, config: PackConfig = {}): Promise<Evaluation> {
    return evaluatePack(analyzedResources(run), POLICIES, config);
}

/** Runs the program for a stack, then the pack over its recording. */
export async function gateStack(stack: string, config: PackConfig = {}): Promise<Evaluation> {
    return gateRun(await runProgram(runOptionsFor(stack)), config);
}

async function main(all: readonly string[]): Promise<number> {
    const { rest: argv, sourceOutputs } = takeSourceOutputs(all);
    const stacks: string[] = [];
    let config: PackConfig = {};
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--config") {
            const file = argv[++i];
            if (file === undefined) {
                throw new UsageError("--config needs a file");
            }
            config = JSON.parse(fs.readFileSync(file, "utf8")) as PackConfig;
        } else {
            stacks.push(argv[i]);
        }
    }
    if (stacks.length === 0) {
        throw new UsageError(`name at least one stack (${Object.keys(GATED_STACKS).join(", ")})`);
    }
    let blocked = false;
    for (const stack of stacks) {
        // Shipped or not, through resolveStack: a shipped drill whose sourceStack the user changed reads that
        // stack's outputs from its file, not acme's placeholders.
        const { spec, sourceNote } = await toolStack(stack, sourceOutputs);
        if (sourceNote !== undefined) {
            process.stderr.write(`policy gate: ${sourceNote}\n`);
        }
        const evaluation = await gateRun(await runProgram(stackRunOptions(spec)), config);
        // Said even on a clean run, so that "0 violations" cannot mean that nothing was checked.
        process.stdout.write(`${stack}: checked against the ${POLICIES.length} policies of the gitops-dr pack\n`);
        process.stdout.write(formatTable(stack, evaluation));
        blocked ||= blocks(evaluation);
    }
    return blocked ? 1 : 0;
}

class UsageError extends Error {}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e: unknown) => {
            const usage =
                e instanceof UsageError
                    ? "\nusage: npm run policy -- <stack|path/to/Pulumi.<stack>.yaml>... [--source-outputs <file>] [--config <file>]"
                    : "";
            const message = stackFailure(e) ?? (e instanceof Error ? e.message : String(e));
            process.stderr.write(`policy gate: ${message}${usage}\n`);
            process.exit(2);
        },
    );
}
