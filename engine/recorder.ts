/**
 * Records what a Pulumi program asks the engine for, under the SDK's mock runtime (DESIGN §6).
 *
 * `pulumi.runtime.setMocks` installs a mock resource monitor; every `RegisterResourceRequest` the SDK sends reaches
 * that monitor's `registerResource`, so wrapping it sees the whole request (parent, dependencies, property
 * dependencies, provider, protect, retainOnDelete, aliases, timeouts) and the state the mocks answered, not only
 * the inputs that `Mocks.newResource` is given. Each recording gets its own runtime state through the SDK's per-run
 * async store (the one the Automation API uses for inline programs), so one process can record any number of runs.
 *
 * Two things the mock monitor does differently from the engine are corrected here:
 * - URNs: the mock monitor qualifies a type by its immediate parent only (`runtime/mocks.js` `newUrn`); the engine
 *   qualifies it by the whole chain of parents, without the stack (pulumi `sdk/go/common/resource/urn.go` `NewURN`,
 *   `pkg/resource/deploy/source_eval.go`). {@link RegisteredResource.realUrn} is the engine's.
 * - Failures: the Node language host fails a program on any unhandled rejection or exception (pulumi
 *   `sdk/nodejs/cmd/run/run.ts`, `uncaughtHandler`), e.g. a resource input that rejects; so does the recorder,
 *   instead of waiting for outputs that never resolve.
 */
import * as pulumi from "@pulumi/pulumi";

import type { RecordedResource } from "../policies/gate/recording";

/* eslint-disable @typescript-eslint/no-require-imports -- internal SDK modules, typed by what is used here */
const runtimeState = require("@pulumi/pulumi/runtime/state") as {
    withLocalStorage<T>(callback: () => Promise<T>): Promise<T>;
};
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
const rpc = require("@pulumi/pulumi/runtime/rpc") as {
    specialSigKey: string;
    specialSecretSig: string;
    specialResourceSig: string;
    unknownValue: string;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Stands for a value that is unknown during a preview. */
export const UNKNOWN = "<unknown>";

/** The SDK's wire value of an unknown, for mocks that answer a preview. */
export const UNKNOWN_WIRE_VALUE = rpc.unknownValue;

export interface CustomTimeouts {
    readonly create?: string;
    readonly update?: string;
    readonly delete?: string;
}

/** An alias the program gave a resource (`aliases` option), as the SDK sends it. */
export interface RecordedAlias {
    /** A full URN alias. */
    readonly urn?: string;
    /** Or a spec: any of these replace the resource's own. `parentUrn: ""` means no parent (the stack). */
    readonly name?: string;
    readonly type?: string;
    readonly parentUrn?: string;
    readonly noParent?: boolean;
}

/**
 * One resource registration as the engine receives it: the fields the policy gate reads (policies/gate/recording.ts
 * `RecordedResource`), the options the engine records, and what the (simulated) provider returned.
 */
export interface RegisteredResource extends RecordedResource {
    readonly custom: boolean;
    readonly replaceOnChanges: readonly string[];
    readonly customTimeouts?: CustomTimeouts;
    /** The URN the engine gives it: its type qualified by every parent's (`urn` is the mock monitor's). */
    readonly realUrn: string;
    readonly aliases: readonly RecordedAlias[];
    /** The state the provider returned, decoded (secrets unwrapped, unknowns as {@link UNKNOWN}). */
    readonly outputs: Readonly<Record<string, unknown>>;
    /** Dotted paths of the outputs that were secrets. */
    readonly outputSecretPaths: readonly string[];
}

/** A read of an existing object (a `get`, a StackReference): nothing is created. */
export interface ReadResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly id: string;
    readonly parent?: string;
    readonly dependencies: readonly string[];
    readonly provider?: string;
}

/** What a recorded run produced. */
export interface Recording<T> {
    readonly result: T;
    readonly resources: readonly RegisteredResource[];
    readonly reads: readonly ReadResource[];
    /** What the SDK logged as warnings (without an engine it prints them with console.warn). */
    readonly warnings: readonly string[];
}

/** The run failed; carries what it had registered until then, so a test can show that nothing was. */
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

export interface RecordOptions {
    readonly project: string;
    readonly stack: string;
    /** Run as a preview: unknown outputs never resolve. */
    readonly preview: boolean;
    readonly mocks: pulumi.runtime.Mocks;
    /** Configuration as the CLI passes it (`project:key` to string), and which keys are secret. */
    readonly config?: { readonly values: Readonly<Record<string, string>>; readonly secretKeys: readonly string[] };
}

/** Decodes a wire struct: unwraps secrets (noting their paths), resource references and unknowns. */
export function decode(value: unknown, at: string, secretPaths: string[]): unknown {
    if (Array.isArray(value)) {
        return value.map((v, i) => decode(v, `${at}[${i}]`, secretPaths));
    }
    if (value === null || typeof value !== "object") {
        return value === rpc.unknownValue ? UNKNOWN : value;
    }
    const obj = value as Record<string, unknown>;
    const sig = obj[rpc.specialSigKey];
    if (sig === rpc.specialSecretSig) {
        secretPaths.push(at);
        return decode(obj.value, at, secretPaths);
    }
    if (sig === rpc.specialResourceSig) {
        return obj.urn;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
        out[k] = decode(v, at === "" ? k : `${at}.${k}`, secretPaths);
    }
    return out;
}

interface Struct {
    toJavaScript(): Record<string, unknown>;
}
interface AliasMessage {
    getUrn(): string;
    getSpec():
        | {
              getName(): string;
              getType(): string;
              getParenturn(): string;
              getNoparent(): boolean;
          }
        | undefined;
}
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): Struct | undefined;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getDependenciesList(): string[];
    getProvider(): string;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getAliasesList(): AliasMessage[];
    getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}
interface RegisterResponse {
    getUrn(): string;
    getObject(): Struct | undefined;
}
interface ReadRequest {
    getProvider(): string;
    getType(): string;
    getName(): string;
    getId(): string;
    getParent(): string;
    getDependenciesList(): string[];
}
interface RegisterOutputsRequest {
    getUrn(): string;
    getOutputs(): Struct | undefined;
}
interface MockMonitor {
    registerResourceOutputs(req: RegisterOutputsRequest, callback: (err: Error | null, resp?: unknown) => void): void;
    registerResource(
        req: RegisterRequest,
        callback: (err: Error | null, resp?: RegisterResponse) => void,
    ): Promise<void>;
    readResource(req: ReadRequest, callback: (err: Error | null, resp?: { getUrn(): string }) => void): Promise<void>;
}

const STACK_TYPE = "pulumi:pulumi:Stack";

/** The type part of a URN (`urn:pulumi:stack::project::<qualified type>::name`). */
function qualifiedType(urn: string): string {
    return urn.split("::")[2] ?? "";
}

/**
 * Runs `body` under the mock runtime and records every registration and read. Rejects with a
 * {@link ProgramError} carrying the program's own error when it fails.
 */
export async function record<T>(options: RecordOptions, body: () => Promise<T>): Promise<Recording<T>> {
    return runtimeState.withLocalStorage(async () => {
        const resources: RegisteredResource[] = [];
        const reads: ReadResource[] = [];
        // mock URN -> the engine's URN, for parents registered earlier
        const realUrns = new Map<string, string>();
        await pulumi.runtime.setMocks(options.mocks, options.project, options.stack, options.preview);
        const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req, callback) =>
            register(req, (err, resp) => {
                if (err === null && resp !== undefined) {
                    const parent = req.getParent();
                    const parentReal = parent === "" ? undefined : realUrns.get(parent);
                    const parentType =
                        parentReal === undefined || qualifiedType(parentReal) === STACK_TYPE
                            ? ""
                            : `${qualifiedType(parentReal)}$`;
                    const realUrn = `urn:pulumi:${options.stack}::${options.project}::${parentType}${req.getType()}::${req.getName()}`;
                    realUrns.set(resp.getUrn(), realUrn);
                    resources.push(recorded(req, resp, realUrn));
                }
                callback(err, resp);
            });
        // A component's outputs arrive with registerOutputs, after its registration (a custom resource's with it).
        const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
        monitor.registerResourceOutputs = (req, callback) =>
            registerOutputs(req, (err, resp) => {
                const index = resources.findIndex((r) => r.urn === req.getUrn());
                if (err === null && index >= 0) {
                    const outputSecretPaths: string[] = [];
                    const outputs = decode(req.getOutputs()?.toJavaScript() ?? {}, "", outputSecretPaths) as Record<
                        string,
                        unknown
                    >;
                    resources[index] = { ...resources[index], outputs, outputSecretPaths };
                }
                callback(err, resp);
            });
        const read = monitor.readResource.bind(monitor);
        monitor.readResource = (req, callback) =>
            read(req, (err, resp) => {
                // A read whose id is unknown (a preview) does not run: "The only time we can't run is if the ID we
                // are given is unknown" (pulumi pkg/resource/deploy/step.go, ReadStep.Apply).
                if (err === null && resp !== undefined && req.getId() !== rpc.unknownValue) {
                    const providerRef = req.getProvider();
                    reads.push({
                        urn: resp.getUrn(),
                        provider:
                            providerRef === "" ? undefined : providerRef.substring(0, providerRef.lastIndexOf("::")),
                        type: req.getType(),
                        name: req.getName(),
                        id: req.getId(),
                        parent: req.getParent() || undefined,
                        dependencies: req.getDependenciesList(),
                    });
                }
                callback(err, resp);
            });
        if (options.config !== undefined) {
            pulumi.runtime.setAllConfig({ ...options.config.values }, [...options.config.secretKeys]);
        }

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
        let failProgram: (e: unknown) => void = () => undefined;
        const failed = new Promise<never>((_, reject) => {
            failProgram = reject;
        });
        const onUnhandled = (e: unknown) => failProgram(e);
        process.on("unhandledRejection", onUnhandled);
        process.on("uncaughtException", onUnhandled);
        try {
            const result = await Promise.race([body(), failed]);
            await Promise.race([runtimeSettings.waitForRPCs(), failed]);
            return { result, resources, reads, warnings };
        } catch (e) {
            throw new ProgramError(e, resources, reads, warnings);
        } finally {
            console.warn = consoleWarn;
            process.off("unhandledRejection", onUnhandled);
            process.off("uncaughtException", onUnhandled);
        }
    });
}

function recorded(req: RegisterRequest, resp: RegisterResponse, realUrn: string): RegisteredResource {
    const secretPaths: string[] = [];
    const inputs = decode(req.getObject()?.toJavaScript() ?? {}, "", secretPaths) as Record<string, unknown>;
    const outputSecretPaths: string[] = [];
    const outputs = decode(resp.getObject()?.toJavaScript() ?? {}, "", outputSecretPaths) as Record<string, unknown>;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        propertyDependencies[key] = deps.getUrnsList();
    });
    const timeouts = req.getCustomtimeouts();
    const providerRef = req.getProvider();
    return {
        urn: resp.getUrn(),
        realUrn,
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        parent: req.getParent() === "" ? undefined : req.getParent(),
        inputs,
        outputs,
        outputSecretPaths,
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
        aliases: req.getAliasesList().map((a) => {
            const spec = a.getSpec();
            return a.getUrn() !== "" || spec === undefined
                ? { urn: a.getUrn() }
                : {
                      name: spec.getName() || undefined,
                      type: spec.getType() || undefined,
                      parentUrn: spec.getParenturn() || undefined,
                      noParent: spec.getNoparent() || undefined,
                  };
        }),
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
