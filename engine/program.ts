/**
 * The offline engine: runs the real `index.ts` under Pulumi's mock runtime for a named stack, configured the way
 * the CLI would configure it (engine/cli-config.ts), answered by a simulated cloud and cluster
 * (engine/providers.ts), and records every resource registration with its inputs, options and outputs
 * (engine/recorder.ts). The project's modules are loaded afresh for every run, so one process can run any number
 * of stacks. Scripts (`npm run plan`, `render`, `policy`, `bench`) and tests use it alike.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";

import { ProgramConfig, StackValue, applyProjectConfig, readStackFile, validateProjectConfig } from "./cli-config";
import { ClusterScenario, SimulatedCluster } from "./cluster";
import { SIMULATED_MINUTES, accountOf, mockState, simulatedTime } from "./providers";
import { record } from "./recorder";
import { ProgramRun } from "./run";
import { stackFilePath } from "./stacks";
import { plainUnboundedStackTraces } from "./stack-traces";
import { cacheTranspiledModules } from "./transpile-cache";

/** The repository root: the project the engine runs. */
export const ROOT = path.resolve(__dirname, "..");
/** The Pulumi project's name (`Pulumi.yaml` `name`). */
export const PROJECT = "gitops-dr";

/** A config value as a stack file or a test gives it. `null` removes the key. */
export type ConfigInput = string | number | boolean | readonly string[] | null;

export interface RunOptions {
    /** Stack name; `Pulumi.<stack>.yaml` is applied when it exists and `stackFile` is not false. */
    readonly stack: string;
    /** Apply `Pulumi.<stack>.yaml`. Defaults to `true`. */
    readonly stackFile?: boolean;
    /** Per-test overrides of `gitops-dr:` keys (a key with a colon names another namespace). */
    readonly config?: Readonly<Record<string, ConfigInput>>;
    /** Values set as secrets, as `pulumi config set --secret` would. */
    readonly secrets?: Readonly<Record<string, string>>;
    /** Outputs of other stacks, by fully qualified name, answered to `pulumi.StackReference`. */
    readonly stackReferences?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    /** Run as a preview: unknown outputs never resolve. Defaults to `false`. */
    readonly preview?: boolean;
    /** When the simulated update started (ms since the epoch); the simulated cluster's times follow it. */
    readonly startedAt?: number;
    /** A `Pulumi.yaml` to use instead of the project's (tests of the CLI's config stage). */
    readonly project?: { readonly name: string; readonly config: Readonly<Record<string, unknown>> };
    /** The stack's values instead of `Pulumi.<stack>.yaml` (e.g. replayed from README commands). */
    readonly stackValues?: ReadonlyMap<string, StackValue>;
    /**
     * What the cluster reports back, by resource type: the live state a provider returns after its await
     * (e.g. a Restore's `status`) and the state of objects the program reads. Merged over the inputs; `undefined`
     * leaves that registration to the simulated cluster.
     */
    readonly live?: Readonly<
        Record<string, (inputs: Record<string, unknown>, id?: string) => Record<string, unknown> | undefined>
    >;
    /** The cluster before the run and the source's backups (engine/cluster/scenario.ts). Defaults to a healthy one. */
    readonly cluster?: ClusterScenario;
}

/**
 * The schedules a stack restores from, for the simulated bucket's default backups: the source's daily schedule as
 * config or the source stack names it, and the cluster's own (a namespace restore); and each one's credentials
 * schedule (components/velero/credentials.ts).
 */
function restoredSchedules(
    config: Readonly<Record<string, string>>,
    options: RunOptions,
): { daily: string[]; credentials: string[] } {
    const key = (k: string) => config[`${PROJECT}:${k}`];
    const named = (names: unknown[]) => names.filter((s): s is string => typeof s === "string" && s !== "");
    const outputs = Object.values(options.stackReferences ?? {});
    const daily = named([
        key("sourceScheduleName"),
        ...outputs.map((o) => o.dailyScheduleName),
        key("clusterName") && `${key("clusterName")}-daily`,
    ]);
    const credentials = named([
        key("sourceCredentialsScheduleName"),
        ...outputs.map((o) => o.credentialsScheduleName),
        ...daily.filter((s) => s.endsWith("-daily")).map((s) => s.replace(/-daily$/, "-credentials")),
    ]);
    return { daily, credentials };
}

/** `Pulumi.yaml` as the CLI reads it. */
export function readProject(): { name: string; config: Record<string, unknown> } {
    return parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        name: string;
        config: Record<string, unknown>;
    };
}

/** The stack's values as the stack file, then the test's `pulumi config set`s, leave them. */
export function stackValues(options: RunOptions): Map<string, StackValue> {
    const qualify = (key: string) => (key.includes(":") ? key : `${PROJECT}:${key}`);
    const stackFile = stackFilePath(`Pulumi.${options.stack}.yaml`);
    const values =
        options.stackValues !== undefined
            ? new Map(options.stackValues)
            : options.stackFile !== false && fs.existsSync(stackFile)
              ? readStackFile(fs.readFileSync(stackFile, "utf8"), PROJECT)
              : new Map<string, StackValue>();
    for (const [key, value] of Object.entries(options.config ?? {})) {
        if (value === null) {
            values.delete(qualify(key));
        } else {
            values.set(qualify(key), value);
        }
    }
    for (const [key, value] of Object.entries(options.secrets ?? {})) {
        values.set(qualify(key), { secure: value });
    }
    return values;
}

/** The CLI's config stage: Pulumi.yaml's declarations applied to the stack's values (engine/cli-config.ts). */
function stackConfig(options: RunOptions): ProgramConfig {
    const project = options.project ?? readProject();
    const declarations = validateProjectConfig(project.name, project.config ?? {});
    return applyProjectConfig(project.name, options.stack, declarations, stackValues(options));
}

/** Loads the project's own modules afresh (not node_modules, not the engine), so `index.ts` runs again from the top. */
function forgetProjectModules(): void {
    cacheTranspiledModules();
    plainUnboundedStackTraces();
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(ROOT) && !id.includes(`${path.sep}node_modules${path.sep}`) && !id.startsWith(__dirname)) {
            delete require.cache[id];
        }
    }
}

/**
 * Runs `index.ts` for a stack and returns what it registered. Rejects with a `ProgramError` carrying the program's
 * own error (for example a configuration error) when the program fails.
 */
export async function runProgram(runOptions: RunOptions): Promise<ProgramRun> {
    // The program stamps the update's start with the clock; the simulated cluster answers relative to it.
    const options: RunOptions = { ...runOptions, startedAt: runOptions.startedAt ?? Date.now() };
    const { config, secretKeys } = stackConfig(options);
    const cluster = new SimulatedCluster(
        options.cluster ?? {},
        options.startedAt!,
        restoredSchedules(config, options),
        simulatedTime(options.startedAt!, SIMULATED_MINUTES.backupStart),
    );
    const recording = await record(
        {
            project: PROJECT,
            stack: options.stack,
            preview: options.preview ?? false,
            config: { values: config, secretKeys: [...secretKeys] },
            mocks: {
                newResource: (args) => mockState(args, options, cluster),
                // A provider that assumes a role is answered from the role's account.
                call: (args) =>
                    args.token === "aws:index/getCallerIdentity:getCallerIdentity"
                        ? {
                              accountId: accountOf(args.provider),
                              arn: `arn:aws:iam::${accountOf(args.provider)}:user/ci`,
                              userId: "AIDAEXAMPLE",
                              id: accountOf(args.provider),
                          }
                        : (args.inputs as Record<string, unknown>),
            },
        },
        () => {
            forgetProjectModules();
            return pulumi.runtime.runInPulumiStack(() => {
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require(path.join(ROOT, "index.ts")) as
                    Record<string, unknown> | (() => Promise<Record<string, unknown>>);
                // The Node language host calls a program that exports a function and awaits its result.
                return typeof program === "function" ? program() : Promise.resolve(program);
            });
        },
    );
    return new ProgramRun(
        recording.resources,
        recording.result ?? {},
        config,
        recording.reads,
        recording.warnings,
        cluster,
    );
}
