/**
 * The stack argument the offline tools share (`npm run plan|render|policy -- <stack> [--source-outputs FILE]`): a
 * shipped name, the name of a `Pulumi.<stack>.yaml` in the repository or the path of one anywhere, and for a
 * recover or drill stack the source stack's outputs (engine/stacks.ts `resolveStack`). Also how a tool reports a
 * stack it cannot run: the configuration's problems once, without a stack trace, exit 2.
 */
import { CliConfigError } from "../engine/cli-config";
import { ProgramError } from "../engine/recorder";
import { runProgram } from "../engine/program";
import { ResolvedStack, StackArgumentError, StackSpec, resolveStack, stackRunOptions } from "../engine/stacks";

/** `--source-outputs FILE` taken out of `argv`; the rest in order. */
export function takeSourceOutputs(argv: readonly string[]): { rest: string[]; sourceOutputs?: string } {
    const rest: string[] = [];
    let sourceOutputs: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--source-outputs") {
            sourceOutputs = argv[++i];
            if (sourceOutputs === undefined || sourceOutputs.startsWith("--")) {
                throw new StackArgumentError(
                    "--source-outputs needs a file (pulumi stack output --json --show-secrets)",
                );
            }
        } else if (argv[i].startsWith("--source-outputs=")) {
            sourceOutputs = argv[i].slice("--source-outputs=".length);
        } else {
            rest.push(argv[i]);
        }
    }
    return { rest, sourceOutputs };
}

/** The outputs of an offline run of a source stack's own file. */
async function runSource(spec: StackSpec): Promise<Record<string, unknown>> {
    return { ...(await runProgram(stackRunOptions(spec))).outputs };
}

/** {@link resolveStack} with the source stack's file run offline when it is beside the stack's. */
export function toolStack(arg: string, sourceOutputs?: string): Promise<ResolvedStack> {
    return resolveStack(arg, { sourceOutputs, runSource });
}

/**
 * What to print for a stack a tool could not run because of its arguments or configuration (the program's own
 * `gitops-dr: the stack configuration has N problems` list, or the CLI's config stage), else undefined: a bug,
 * which keeps its stack trace.
 */
export function stackFailure(e: unknown): string | undefined {
    if (e instanceof StackArgumentError || e instanceof CliConfigError) {
        return e.message;
    }
    // The config module is loaded afresh for each run, so its ConfigError is told by its shape, not its class.
    const cause = e instanceof ProgramError ? e.cause : undefined;
    if (cause instanceof Error && Array.isArray((cause as { problems?: unknown }).problems)) {
        return cause.message;
    }
    return undefined;
}
