/**
 * The simulated cloud and cluster: what a provider returns for each registration, so the program can read ARNs
 * and names of what it created and the live state of what it waits for. Tests override it per type with
 * `RunOptions.live`.
 */
import type * as pulumi from "@pulumi/pulumi";

import { UNKNOWN_WIRE_VALUE } from "./recorder";
import type { RunOptions } from "./program";

/** The AWS account of every simulated resource. */
export const ACCOUNT = "111122223333";

/** Outputs a real provider would compute, so the program can read ARNs and names of what it created. */
export function mockState(
    args: pulumi.runtime.MockResourceArgs,
    options: RunOptions,
): pulumi.runtime.MockResourceResult {
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
                                .map((k) => [k, UNKNOWN_WIRE_VALUE]),
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
