/**
 * From the offline engine's recording (engine/recorder.ts) to what an analyzer receives: each registration
 * becomes an {@link AnalyzedResource} with the options, parent, dependencies, property dependencies and
 * provider the engine would send, and the stack resource carries the stack's outputs, as it does in
 * `AnalyzeStack`. Types are structural so the pack does not depend on the tests.
 */
import type { PolicyProviderResource } from "@pulumi/policy";

import { goDurationHours } from "../lib/time";
import type { AnalyzedResource } from "./evaluate";

/** The fields of the engine's (engine/recorder.ts) `RegisteredResource` the gate reads. */
export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    readonly inputs: Readonly<Record<string, unknown>>;
    readonly secretPaths: readonly string[];
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    readonly provider?: string;
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly ignoreChanges: readonly string[];
    readonly customTimeouts?: { readonly create?: string; readonly update?: string; readonly delete?: string };
    /**
     * What the provider returned: stack policies judge these (pulumi `step_generator.go`: "AnalyzeStack is called on
     * the final outputs of each resource"). Absent: the inputs stand in for them.
     */
    readonly outputs?: Readonly<Record<string, unknown>>;
    /** Dotted paths of the outputs that were secrets. */
    readonly outputSecretPaths?: readonly string[];
}

/** The fields of the engine's (engine/recorder.ts) `ProgramRun` the gate reads. */
export interface RecordedRun {
    readonly resources: readonly RecordedResource[];
    readonly outputs: Readonly<Record<string, unknown>>;
}

const STACK_TYPE = "pulumi:pulumi:Stack";

function seconds(duration: string | undefined): number {
    const hours = duration === undefined ? undefined : goDurationHours(duration);
    return hours === undefined ? 0 : hours * 3600;
}

/** Plain JSON: drops undefined values, as the engine's protobuf structs do. */
function json(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/** The analyzer's view of a recorded program run. */
export function analyzedResources(run: RecordedRun): AnalyzedResource[] {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    return run.resources.map((r) => {
        const providerRecord = r.provider === undefined ? undefined : byUrn.get(r.provider);
        const provider: PolicyProviderResource | undefined =
            providerRecord === undefined
                ? undefined
                : {
                      type: providerRecord.type,
                      props: json(providerRecord.inputs),
                      urn: providerRecord.urn,
                      name: providerRecord.name,
                  };
        return {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: r.type === STACK_TYPE ? json(run.outputs) : json(r.inputs),
            outputs: r.type === STACK_TYPE ? json(run.outputs) : json(r.outputs ?? r.inputs),
            outputSecretPaths:
                r.type === STACK_TYPE
                    ? []
                    : [...(r.outputs === undefined ? r.secretPaths : (r.outputSecretPaths ?? []))],
            opts: {
                protect: r.protect,
                retainOnDelete: r.retainOnDelete,
                ignoreChanges: [...r.ignoreChanges],
                deleteBeforeReplace: r.deleteBeforeReplace,
                aliases: [],
                customTimeouts: {
                    createSeconds: seconds(r.customTimeouts?.create),
                    updateSeconds: seconds(r.customTimeouts?.update),
                    deleteSeconds: seconds(r.customTimeouts?.delete),
                },
                additionalSecretOutputs: [],
                ...(r.parent === undefined ? {} : { parent: r.parent }),
            },
            ...(provider === undefined ? {} : { provider }),
            ...(r.parent === undefined ? {} : { parent: r.parent }),
            dependencies: [...r.dependencies],
            propertyDependencies: Object.fromEntries(
                Object.entries(r.propertyDependencies).map(([k, v]) => [k, [...v]]),
            ),
            secretPaths: r.type === STACK_TYPE ? [] : [...r.secretPaths],
        };
    });
}
