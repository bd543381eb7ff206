/**
 * The simulated cloud and cluster: what each provider returns for a registration (aws.ts, kubernetes.ts), and what
 * the cluster's controllers and the program's in-cluster tasks make of it (engine/cluster). Stack references answer
 * with the outputs a test gives. Tests can still override a type's answer with `RunOptions.live`.
 */
import type * as pulumi from "@pulumi/pulumi";

import { SimulatedCluster } from "../cluster";
import type { RunOptions } from "../program";
import { UNKNOWN_WIRE_VALUE } from "../recorder";
import { accountOf, registerAwsProvider } from "./account";
import { awsOutputs } from "./aws";
import { kubernetesOutputs } from "./kubernetes";

export { ACCOUNT, accountOf } from "./account";
export * from "./aws";
export * from "./kubernetes";
export * from "./refresh";

/**
 * What a healthy cluster reports once Pulumi's awaits end, in minutes after the run started: the newest daily backup
 * was taken 8 hours before; the source location syncs after 1 minute; the restore starts at 2 and completes at 40;
 * the drill's verification completes at 55.
 */
export const SIMULATED_MINUTES = {
    backupStart: -480,
    synced: 1,
    restoreStart: 2,
    restoreEnd: 40,
    verified: 55,
} as const;

/** ISO time `minutes` after `startedAt`, without milliseconds (as Kubernetes prints it). */
export function simulatedTime(startedAt: number, minutes: number): string {
    return new Date(startedAt + minutes * 60000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

type Json = Record<string, unknown>;

/** Inputs with the fields only the cluster knows unknown: a preview of a create. */
function previewOf(inputs: Json, computed: readonly string[]): Json {
    return {
        ...inputs,
        ...Object.fromEntries(
            computed.filter((k) => inputs[k] === undefined || k === "status").map((k) => [k, UNKNOWN_WIRE_VALUE]),
        ),
    };
}

/** The provider's answer to one registration or read. */
export async function mockState(
    args: pulumi.runtime.MockResourceArgs,
    options: RunOptions,
    cluster: SimulatedCluster,
): Promise<pulumi.runtime.MockResourceResult> {
    const inputs = args.inputs as Json;
    const startedAt = options.startedAt ?? Date.now();
    const at = (minutes: number) => simulatedTime(startedAt, minutes);
    const overridden = options.live?.[args.type]?.(inputs, args.id);
    if (overridden !== undefined) {
        let state = { ...inputs, ...overridden };
        if (args.type === "kubernetes:velero.io/v1:Restore") {
            // A restore a test scripted: Velero still chose its backup and left its results in the bucket.
            state = cluster.velero.scripted(state);
            cluster.register(state);
        }
        return { id: args.id ?? `${args.name}-id`, state };
    }
    const region = typeof inputs.region === "string" ? inputs.region : "eu-west-1";
    if (args.type === "pulumi:pulumi:StackReference") {
        const name = String(inputs.name);
        const outputs = options.stackReferences?.[name];
        if (outputs === undefined) {
            throw new Error(`the test gave no outputs for stack reference ${name}`);
        }
        return { id: name, state: { name, outputs, secretOutputNames: [] } };
    }
    if (args.type === "pulumi:providers:aws") {
        registerAwsProvider(args.name, inputs);
    }
    if (args.type.startsWith("aws:")) {
        return awsOutputs(args.type, args.name, inputs, region, accountOf(args.provider));
    }
    if (!args.type.startsWith("kubernetes:")) {
        return { id: args.id ?? `${args.name}-id`, state: inputs };
    }
    const read = args.id !== undefined && args.id !== "";
    if (read) {
        return { id: args.id!, state: inputs };
    }
    if (options.preview === true) {
        // A preview of a create knows the inputs only: what the cluster would report is unknown until the update,
        // as in the engine's preview (pulumi-kubernetes returns the dry-run object without its status).
        const computed =
            args.type.startsWith("kubernetes:velero.io/") || args.type === "kubernetes:batch/v1:Job"
                ? ["status", "metadata"]
                : ["status"];
        return {
            id: `${args.name}-id`,
            state: previewOf(
                inputs,
                args.type === "kubernetes:helm.sh/v3:Release" ? ["status", "resourceNames"] : computed,
            ),
        };
    }

    const object = kubernetesOutputs(args.type, args.name, inputs, at(0));
    switch (args.type) {
        case "kubernetes:helm.sh/v3:Release":
            // Velero syncs the backups of every Available location, the chart's own included.
            if (String(inputs.chart).endsWith("velero") || String(inputs.chart).includes("/velero-")) {
                const locations = ((inputs.values as Json | undefined)?.configuration as Json | undefined)
                    ?.backupStorageLocation as Json[] | undefined;
                for (const location of locations ?? [{}]) {
                    cluster.velero.sync(String(inputs.namespace), location.bucket as string | undefined);
                }
            }
            return { id: `${args.name}-id`, state: object };
        case "kubernetes:velero.io/v1:BackupStorageLocation": {
            cluster.register(object);
            // Velero syncs the location's backups once it is Available (`backup_sync_controller.go`).
            const storage = ((object.spec as Json | undefined)?.objectStorage ?? {}) as Json;
            cluster.velero.sync(String((object.metadata as Json).namespace), storage.bucket as string | undefined);
            return {
                id: `${args.name}-id`,
                state: {
                    ...object,
                    status: {
                        phase: "Available",
                        lastSyncedTime: at(SIMULATED_MINUTES.synced),
                        lastValidationTime: at(SIMULATED_MINUTES.synced),
                    },
                },
            };
        }
        case "kubernetes:velero.io/v1:Restore": {
            cluster.store.advanceTo(startedAt + SIMULATED_MINUTES.restoreStart * 60000);
            const { spec, status } = cluster.velero.restore(object, {
                start: at(SIMULATED_MINUTES.restoreStart),
                end: at(SIMULATED_MINUTES.restoreEnd),
            });
            const metadata = {
                ...(object.metadata as Json),
                finalizers: ["restores.velero.io/external-resources-finalizer"],
            };
            const restore = { ...object, metadata, spec, status };
            cluster.register(restore);
            // A restore that waited for a timeout ends later than the simulated schedule.
            const completion: unknown = status.completionTimestamp;
            const ended = typeof completion === "string" ? Date.parse(completion) : Number.NaN;
            cluster.store.advanceTo(
                Math.max(startedAt + SIMULATED_MINUTES.restoreEnd * 60000, Number.isNaN(ended) ? 0 : ended),
            );
            return { id: `${args.name}-id`, state: restore };
        }
        case "kubernetes:velero.io/v1:Schedule":
            cluster.register(object);
            return { id: `${args.name}-id`, state: { ...object, status: { phase: "Enabled" } } };
        case "kubernetes:batch/v1:Job": {
            if (SimulatedCluster.isTaskJob(object)) {
                const outcome = await cluster.runTask(object, at(SIMULATED_MINUTES.restoreStart));
                if ("failure" in outcome) {
                    throw new Error(outcome.failure);
                }
                return { id: `${args.name}-id`, state: outcome.job };
            }
            cluster.register(object);
            return {
                id: `${args.name}-id`,
                state: { ...object, status: { succeeded: 1, completionTime: at(SIMULATED_MINUTES.verified) } },
            };
        }
        default:
            cluster.register(object);
            return { id: `${args.name}-id`, state: object };
    }
}
