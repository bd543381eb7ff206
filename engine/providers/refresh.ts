/**
 * The outputs of a resource whose inputs a test changed after the run, as the provider would return them for the
 * new inputs: a policy test that breaks a recorded program the way a hand-edited one would (policies/testing/
 * variants.ts) must see the live state that program would produce, not the old one. What a controller wrote
 * (a status, the fields Velero fills in a Restore) stays as it was.
 */
import { awsOutputs } from "./aws";
import { kubernetesOutputs } from "./kubernetes";

type Json = Record<string, unknown>;

/** The outputs for new inputs, keeping what the cluster's controllers wrote into the old outputs. */
export function outputsFor(r: {
    readonly type: string;
    readonly name: string;
    readonly inputs: Json;
    readonly outputs?: Json;
}): Json {
    if (r.type.startsWith("aws:")) {
        const region = typeof r.inputs.region === "string" ? r.inputs.region : "eu-west-1";
        return awsOutputs(r.type, r.name, r.inputs, region).state;
    }
    if (!r.type.startsWith("kubernetes:")) {
        return r.inputs;
    }
    const live = kubernetesOutputs(r.type, r.name, r.inputs, "2026-01-01T00:00:00Z");
    const before = r.outputs ?? {};
    const kept: Json = before.status === undefined ? {} : { status: before.status };
    if (r.type === "kubernetes:velero.io/v1:Restore") {
        // What Velero filled in after validating the Restore (restore_controller.go `validateAndComplete`).
        const spec = { ...(live.spec as Json) };
        const old = (before.spec ?? {}) as Json;
        for (const key of ["backupName", "scheduleName", "excludedResources"] as const) {
            if (spec[key] === undefined && old[key] !== undefined) {
                spec[key] = old[key];
            }
        }
        kept.spec = spec;
    }
    return { ...live, ...kept };
}

/** Recomputes the outputs of every resource whose inputs differ from `before` (the run as recorded). */
export function refreshOutputs(
    run: { resources: { type: string; name: string; inputs: Json; outputs?: Json }[] },
    before: { resources: readonly { readonly inputs: Readonly<Json> }[] },
): void {
    run.resources.forEach((r, i) => {
        if (JSON.stringify(r.inputs) !== JSON.stringify(before.resources[i]?.inputs)) {
            r.outputs = outputsFor(r);
        }
    });
}
