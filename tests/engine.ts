/**
 * The offline engine: runs the real `index.ts` under Pulumi's mock runtime for a named stack, configured the
 * way the CLI would configure it, and records every resource registration with its inputs and options.
 *
 * How it works (DESIGN §6): `pulumi.runtime.setMocks` installs a mock resource monitor; every
 * `RegisterResourceRequest` the SDK sends reaches that monitor's `registerResource`, so wrapping it sees the
 * whole request (parent, dependencies, property dependencies, provider, protect, retainOnDelete, timeouts) and
 * not only the inputs that `Mocks.newResource` is given. Each run gets its own runtime state through the
 * SDK's per-run async store (the one the Automation API uses for inline programs), and the project's modules
 * are loaded afresh, so one mocha process can run any number of stacks.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";

import type { RecordedResource } from "../policies/gate/recording";
import { directDependencies, waitsFor } from "../policies/lib/graph";
import { ProgramConfig, StackValue, applyProjectConfig, readStackFile, validateProjectConfig } from "./cli-config";

const ROOT = path.resolve(__dirname, "..");
const PROJECT = "gitops-dr";

// Internal SDK modules, typed here by what we use. Both exist since @pulumi/pulumi 3.x's Automation API.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeState = require("@pulumi/pulumi/runtime/state") as {
    withLocalStorage<T>(callback: () => Promise<T>): Promise<T>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as {
    specialSigKey: string;
    specialSecretSig: string;
    specialResourceSig: string;
    unknownValue: string;
};

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
     * (e.g. a Restore's `status`) and the state of objects the program reads. Merged over the inputs.
     */
    readonly live?: Readonly<Record<string, (inputs: Record<string, unknown>, id?: string) => Record<string, unknown>>>;
}

export interface CustomTimeouts {
    readonly create?: string;
    readonly update?: string;
    readonly delete?: string;
}

/**
 * One resource registration as the engine would receive it: the fields the policy gate reads
 * (policies/gate/recording.ts `RecordedResource`: urn, type, name, parent, inputs with secrets unwrapped and
 * their `secretPaths`, explicit and per-input dependencies, provider, protect, retainOnDelete,
 * deleteBeforeReplace, ignoreChanges, customTimeouts), and the rest of what the engine records.
 */
export interface RegisteredResource extends RecordedResource {
    readonly custom: boolean;
    readonly replaceOnChanges: readonly string[];
    readonly customTimeouts?: CustomTimeouts;
}

/** A read of an existing object (a `get`, a StackReference): nothing is created. */
export interface ReadResource {
    readonly type: string;
    readonly name: string;
    readonly id: string;
    readonly parent?: string;
    readonly dependencies: readonly string[];
}

/** The result of one program run: every registration and the stack outputs. */
export class ProgramRun {
    private readonly byUrnMap: Map<string, RegisteredResource>;

    constructor(
        readonly resources: readonly RegisteredResource[],
        readonly outputs: Readonly<Record<string, unknown>>,
        readonly config: Readonly<Record<string, string>>,
        readonly reads: readonly ReadResource[] = [],
        readonly warnings: readonly string[] = [],
    ) {
        this.byUrnMap = new Map(resources.map((r) => [r.urn, r]));
    }

    /** Every resource of a type token, e.g. `aws:s3/bucket:Bucket`. */
    ofType(type: string): RegisteredResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The single resource of a type (and name, when given); throws when there is not exactly one. */
    one(type: string, name?: string): RegisteredResource {
        const found = this.ofType(type).filter((r) => name === undefined || r.name === name);
        if (found.length !== 1) {
            throw new Error(
                `expected exactly one ${type}${name === undefined ? "" : ` named ${name}`}, found ${found.length}: ` +
                    `[${this.ofType(type)
                        .map((r) => r.name)
                        .join(", ")}]`,
            );
        }
        return found[0];
    }

    byUrn(urn: string): RegisteredResource {
        const r = this.byUrnMap.get(urn);
        if (r === undefined) {
            throw new Error(`no resource with URN ${urn}`);
        }
        return r;
    }

    /** The resource's direct dependencies: explicit ones and every input's. */
    directDependencies(r: RegisteredResource): Set<string> {
        return directDependencies(r);
    }

    /** Whether `a` waits for `b`: directly or through a chain of dependencies (policies/lib/graph.ts). */
    dependsOn(a: RegisteredResource, b: RegisteredResource): boolean {
        return waitsFor(a, b, (urn) => this.byUrnMap.get(urn));
    }

    /** The resource's chain of parents, nearest first. */
    ancestors(r: RegisteredResource): RegisteredResource[] {
        const chain: RegisteredResource[] = [];
        let parent = r.parent;
        while (parent !== undefined && parent !== "") {
            const p = this.byUrnMap.get(parent);
            if (p === undefined) {
                break;
            }
            chain.push(p);
            parent = p.parent;
        }
        return chain;
    }

    /** Every resource below a component, at any depth. */
    descendants(component: RegisteredResource): RegisteredResource[] {
        return this.resources.filter((r) => this.ancestors(r).some((a) => a.urn === component.urn));
    }
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
    const stackFile = path.join(ROOT, `Pulumi.${options.stack}.yaml`);
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

/** The CLI's config stage: Pulumi.yaml's declarations applied to the stack's values (tests/cli-config.ts). */
function stackConfig(options: RunOptions): ProgramConfig {
    const project = options.project ?? readProject();
    const declarations = validateProjectConfig(project.name, project.config ?? {});
    return applyProjectConfig(project.name, options.stack, declarations, stackValues(options));
}

const ACCOUNT = "111122223333";

/** Outputs a real provider would compute, so the program can read ARNs and names of what it created. */
function mockState(args: pulumi.runtime.MockResourceArgs, options: RunOptions): pulumi.runtime.MockResourceResult {
    const stackReferences = options.stackReferences;
    const inputs = args.inputs as Record<string, unknown>;
    const live = options.live?.[args.type];
    if (live !== undefined) {
        const state = { ...inputs, ...live(inputs, args.id) };
        return { id: args.id ?? `${args.name}-id`, state };
    }
    const region = typeof inputs.region === "string" ? inputs.region : "eu-west-1";
    switch (args.type) {
        case "pulumi:pulumi:StackReference": {
            const name = String(inputs.name);
            const outputs = stackReferences?.[name];
            if (outputs === undefined) {
                throw new Error(`the test gave no outputs for stack reference ${name}`);
            }
            return { id: name, state: { name, outputs, secretOutputNames: [] } };
        }
        case "aws:s3/bucket:Bucket": {
            const bucket = typeof inputs.bucket === "string" ? inputs.bucket : `${args.name}-mock`;
            return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegion: region } };
        }
        case "aws:kms/key:Key":
            return {
                id: `${args.name}-id`,
                state: {
                    ...inputs,
                    arn: `arn:aws:kms:${region}:${ACCOUNT}:key/${args.name}-id`,
                    keyId: `${args.name}-id`,
                },
            };
        case "aws:iam/role:Role":
        case "aws:iam/policy:Policy": {
            const kind = args.type === "aws:iam/role:Role" ? "role" : "policy";
            const name = typeof inputs.name === "string" ? inputs.name : args.name;
            return { id: name, state: { ...inputs, name, arn: `arn:aws:iam::${ACCOUNT}:${kind}/${name}` } };
        }
        default: {
            const simulated = simulatedCluster(options.startedAt ?? Date.now())[args.type]?.(inputs);
            if (simulated !== undefined && options.preview === true && !args.id) {
                // A preview of a create knows the inputs only: what the cluster would report (a location's
                // status, a restore's phase) is unknown until the update, as in the engine's preview.
                return {
                    id: `${args.name}-id`,
                    state: {
                        ...inputs,
                        ...Object.fromEntries(
                            Object.keys(simulated)
                                .filter((k) => !(k in inputs) || inputs[k] === undefined || k === "status")
                                .map((k) => [k, rpc.unknownValue]),
                        ),
                    },
                };
            }
            return {
                id: args.id ?? `${args.name}-id`,
                state: simulated === undefined ? inputs : { ...inputs, ...simulated },
            };
        }
    }
}

/**
 * What a healthy cluster reports once Pulumi's awaits end, for objects whose outputs the program reads, in
 * minutes after the run started: the newest daily backup was taken 8 hours before; the source location syncs
 * after 1 minute; the restore starts at 2 and completes at 40; the drill's verification completes at 55.
 * Tests override it per type with `RunOptions.live`.
 */
export const SIMULATED_MINUTES = {
    backupStart: -480,
    synced: 1,
    restoreStart: 2,
    restoreEnd: 40,
    verified: 55,
} as const;

function simulatedCluster(
    startedAt: number,
): Readonly<Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>> {
    const at = (minutes: number) => new Date(startedAt + minutes * 60000).toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
        "kubernetes:velero.io/v1:BackupStorageLocation": () => ({
            status: { phase: "Available", lastSyncedTime: at(SIMULATED_MINUTES.synced) },
        }),
        "kubernetes:velero.io/v1:Restore": (inputs) => {
            const spec = (inputs.spec ?? {}) as Record<string, unknown>;
            // Velero names a schedule's backup <schedule>-<UTC yyyyMMddHHmmss> of when it was taken.
            const taken = at(SIMULATED_MINUTES.backupStart).replace(/[-:TZ]/g, "");
            const backupName =
                typeof spec.backupName === "string" ? spec.backupName : `${String(spec.scheduleName)}-${taken}`;
            return {
                spec: { ...spec, backupName },
                status: {
                    phase: "Completed",
                    errors: 0,
                    warnings: 0,
                    startTimestamp: at(SIMULATED_MINUTES.restoreStart),
                    completionTimestamp: at(SIMULATED_MINUTES.restoreEnd),
                    progress: { itemsRestored: 42, totalItems: 42 },
                },
            };
        },
        "kubernetes:velero.io/v1:Backup": () => ({
            status: {
                phase: "Completed",
                startTimestamp: at(SIMULATED_MINUTES.backupStart),
                completionTimestamp: at(SIMULATED_MINUTES.backupStart + 20),
            },
        }),
        "kubernetes:batch/v1:Job": () => ({ status: { succeeded: 1, completionTime: at(SIMULATED_MINUTES.verified) } }),
    };
}

/** Decodes a registration's input struct: unwraps secrets (noting their paths) and resource references. */
function decodeInputs(value: unknown, at: string, secretPaths: string[]): unknown {
    if (Array.isArray(value)) {
        return value.map((v, i) => decodeInputs(v, `${at}[${i}]`, secretPaths));
    }
    if (value === null || typeof value !== "object") {
        return value === rpc.unknownValue ? UNKNOWN : value;
    }
    const obj = value as Record<string, unknown>;
    const sig = obj[rpc.specialSigKey];
    if (sig === rpc.specialSecretSig) {
        secretPaths.push(at);
        return decodeInputs(obj.value, at, secretPaths);
    }
    if (sig === rpc.specialResourceSig) {
        return obj.urn;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
        out[k] = decodeInputs(v, at === "" ? k : `${at}.${k}`, secretPaths);
    }
    return out;
}

/** Stands for a value that is unknown during a preview. */
export const UNKNOWN = "<unknown>";

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getDependenciesList(): string[];
    getProvider(): string;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}
interface ReadRequest {
    getType(): string;
    getName(): string;
    getId(): string;
    getParent(): string;
    getDependenciesList(): string[];
}
interface MockMonitor {
    registerResource(
        req: RegisterRequest,
        callback: (err: Error | null, resp?: { getUrn(): string }) => void,
    ): Promise<void>;
    readResource(req: ReadRequest, callback: (err: Error | null, resp?: unknown) => void): Promise<void>;
}

/** Loads the project's own modules afresh (not node_modules), so `index.ts` runs again from the top. */
function forgetProjectModules(): void {
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(ROOT) && !id.includes(`${path.sep}node_modules${path.sep}`) && !id.startsWith(__dirname)) {
            delete require.cache[id];
        }
    }
}

/**
 * Runs `index.ts` for a stack and returns what it registered. Rejects with the program's own error (for
 * example a configuration error) when the program fails.
 */
export async function runProgram(runOptions: RunOptions): Promise<ProgramRun> {
    // The program stamps the update's start with the clock; the simulated cluster answers relative to it.
    const options: RunOptions = { ...runOptions, startedAt: runOptions.startedAt ?? Date.now() };
    const { config, secretKeys } = stackConfig(options);
    return runtimeState.withLocalStorage(async () => {
        const resources: RegisteredResource[] = [];
        const reads: ReadResource[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => mockState(args, options),
                call: (args) =>
                    args.token === "aws:index/getCallerIdentity:getCallerIdentity"
                        ? {
                              accountId: ACCOUNT,
                              arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
                              userId: "AIDAEXAMPLE",
                              id: ACCOUNT,
                          }
                        : (args.inputs as Record<string, unknown>),
            },
            PROJECT,
            options.stack,
            options.preview ?? false,
        );
        const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req, callback) =>
            register(req, (err, resp) => {
                if (err === null && resp !== undefined) {
                    resources.push(record(req, resp.getUrn()));
                }
                callback(err, resp);
            });
        const read = monitor.readResource.bind(monitor);
        monitor.readResource = (req, callback) =>
            read(req, (err, resp) => {
                // A read whose id is unknown (a preview) does not run: "The only time we can't run is if the ID we
                // are given is unknown" (pulumi pkg/resource/deploy/step.go, ReadStep.Apply).
                if (err === null && resp !== undefined && req.getId() !== rpc.unknownValue) {
                    reads.push({
                        type: req.getType(),
                        name: req.getName(),
                        id: req.getId(),
                        parent: req.getParent() || undefined,
                        dependencies: req.getDependenciesList(),
                    });
                }
                callback(err, resp);
            });
        pulumi.runtime.setAllConfig(config, [...secretKeys]);

        forgetProjectModules();
        // Without an engine the SDK prints warnings with console.warn ("warning: [runtime] ..."): collect them, so
        // a test can assert that a run warns about nothing (or about exactly what it should).
        const warnings: string[] = [];
        const consoleWarn = console.warn;
        console.warn = (...args: unknown[]) => {
            warnings.push(
                args
                    .map(String)
                    .join(" ")
                    .replace(/^warning: \[runtime\] /, ""),
            );
        };
        // The Node language host fails the program on any unhandled rejection or exception (pulumi
        // sdk/nodejs/cmd/run/run.ts, `uncaughtHandler` on "unhandledRejection" and "uncaughtException"), e.g. a
        // resource input that rejects: so does this engine, instead of waiting for outputs that never resolve.
        let failProgram: (e: unknown) => void = () => undefined;
        const failed = new Promise<never>((_, reject) => {
            failProgram = reject;
        });
        const onUnhandled = (e: unknown) => failProgram(e);
        process.on("unhandledRejection", onUnhandled);
        process.on("uncaughtException", onUnhandled);
        try {
            const outputs = await Promise.race([
                pulumi.runtime.runInPulumiStack(() => {
                    // eslint-disable-next-line @typescript-eslint/no-require-imports
                    const program = require(path.join(ROOT, "index.ts")) as
                        Record<string, unknown> | (() => Promise<Record<string, unknown>>);
                    // The Node language host calls a program that exports a function and awaits its result.
                    return typeof program === "function" ? program() : Promise.resolve(program);
                }),
                failed,
            ]);
            await Promise.race([runtimeSettings.waitForRPCs(), failed]);
            return new ProgramRun(resources, outputs ?? {}, config, reads, warnings);
        } catch (e) {
            throw new ProgramError(e, resources, reads, warnings);
        } finally {
            console.warn = consoleWarn;
            process.off("unhandledRejection", onUnhandled);
            process.off("uncaughtException", onUnhandled);
        }
    });
}

/** The program failed; carries what it had registered until then, so a test can show that nothing was. */
export class ProgramError extends Error {
    constructor(
        readonly cause: unknown,
        readonly resources: readonly RegisteredResource[],
        readonly reads: readonly ReadResource[],
        readonly warnings: readonly string[],
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
    }
}

function record(req: RegisterRequest, urn: string): RegisteredResource {
    const secretPaths: string[] = [];
    const inputs = decodeInputs(req.getObject()?.toJavaScript() ?? {}, "", secretPaths) as Record<string, unknown>;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        propertyDependencies[key] = deps.getUrnsList();
    });
    const timeouts = req.getCustomtimeouts();
    const providerRef = req.getProvider();
    return {
        urn,
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        parent: req.getParent() === "" ? undefined : req.getParent(),
        inputs,
        secretPaths,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        // A provider reference is "<provider URN>::<provider id>".
        provider: providerRef === "" ? undefined : providerRef.substring(0, providerRef.lastIndexOf("::")),
        protect: req.getProtect() ?? false,
        retainOnDelete: req.getRetainondelete() ?? false,
        deleteBeforeReplace: req.getDeletebeforereplace(),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        customTimeouts:
            timeouts === undefined
                ? undefined
                : {
                      create: timeouts.getCreate() || undefined,
                      update: timeouts.getUpdate() || undefined,
                      delete: timeouts.getDelete() || undefined,
                  },
    };
}
