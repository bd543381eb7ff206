/**
 * Helpers for the Kubernetes resources every component registers: one helper per workaround.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { ChartSource } from "./config";
import { ChartPin, releaseChart } from "./mirrors";

/**
 * A field of a Kubernetes object's live state. A TypeScript `CustomResource` exposes only the keys its args name
 * (pulumi-kubernetes #1836), so the program names `status: undefined` (or `spec`) in the args and reads the field
 * here; `waitFor` makes the outputs the live object at the end of the wait (pulumi-kubernetes `await.go`
 * `Creation`).
 */
export function liveField<T>(
    resource: pulumi.CustomResource,
    key: "status" | "spec" | "data",
): pulumi.Output<T | undefined> {
    return (resource as unknown as Record<string, pulumi.Output<T | undefined>>)[key];
}

export interface PinnedReleaseArgs {
    /** Helm release name, set explicitly: charts derive object names from it. */
    readonly releaseName: string;
    readonly namespace: pulumi.Input<string>;
    readonly chart: ChartPin;
    readonly source?: ChartSource;
    readonly values: pulumi.Input<Record<string, unknown>>;
    /** Reset values to exactly these on every upgrade. Defaults to Helm's own behaviour (`false`). */
    readonly resetValues?: boolean;
}

/**
 * A pinned chart installed the way every gitops-dr release is: in a namespace the component created, awaited
 * (Deployments, DaemonSets and hook Jobs: later steps need the CRDs and running controllers), never rolled back or
 * uninstalled by Helm on failure (that would delete what already runs), with a bounded history. Helm's `v3.Release`
 * rather than `v4.Chart`: both charts rely on hooks, which `v4.Chart` drops (pulumi-kubernetes #3284, DESIGN §6).
 */
export function pinnedRelease(
    name: string,
    args: PinnedReleaseArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: args.releaseName,
            namespace: args.namespace,
            createNamespace: false,
            ...releaseChart(args.chart, args.source),
            values: args.values,
            skipAwait: false,
            waitForJobs: true,
            timeout: 900,
            ...(args.resetValues === true ? { resetValues: true } : {}),
            atomic: false,
            cleanupOnFail: false,
            maxHistory: 10,
        },
        { ...opts, customTimeouts: { create: "20m", update: "20m" } },
    );
}
