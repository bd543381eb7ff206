/**
 * What @pulumi/kubernetes 4.34 returns as a resource's outputs: the live object as the provider saw it when its
 * await ended (`provider/pkg/await/await.go` `Creation`, `provider.go` `Create` -> `checkpointObject`): everything
 * the API server added (metadata.uid, resourceVersion, creationTimestamp, generation, managedFields, defaults) and
 * what controllers wrote (status; Velero's Restore spec). A Secret's outputs hold `data` (base64) and no
 * `stringData`: the API server never returns it. A Helm release's outputs add its `status` and `resourceNames`.
 * In a preview, a create returns the inputs; what only the cluster knows is unknown.
 */
type Json = Record<string, unknown>;

/* eslint-disable @typescript-eslint/no-require-imports -- the SDK's wire format, typed by what is used here */
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };
/* eslint-enable @typescript-eslint/no-require-imports */

/** A secret as mocks receive it: `{ <sig>: <secret sig>, value }`. */
const isSecret = (v: unknown): v is { value: unknown } =>
    v !== null && typeof v === "object" && (v as Json)[rpc.specialSigKey] === rpc.specialSecretSig;
/** `value` wrapped as a secret, as a mock returns it. */
const secret = (value: unknown): Json => ({ [rpc.specialSigKey]: rpc.specialSecretSig, value });

const object = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** The fields the API server adds to every object's metadata. */
export function serverMetadata(inputs: Json, name: string, at: string): Json {
    const metadata = object(inputs.metadata);
    return {
        ...metadata,
        name: metadata.name ?? `${name}-${"x7k2p"}`,
        uid: `00000000-0000-4000-8000-${Buffer.from(name).toString("hex").slice(0, 12).padEnd(12, "0")}`,
        resourceVersion: "1",
        generation: 1,
        creationTimestamp: at,
        managedFields: [
            {
                manager: "pulumi-kubernetes",
                operation: "Apply",
                apiVersion: typeof inputs.apiVersion === "string" ? inputs.apiVersion : "v1",
            },
        ],
    };
}

/** A Secret as the API server returns it: `stringData` merged into base64 `data`. */
function liveSecret(inputs: Json): Json {
    const wrapped = isSecret(inputs.data) || isSecret(inputs.stringData);
    const plain = (v: unknown) => (isSecret(v) ? v.value : v);
    const data: Record<string, unknown> = { ...object(plain(inputs.data)) };
    for (const [k, v] of Object.entries(object(plain(inputs.stringData)))) {
        data[k] = Buffer.from(String(plain(v))).toString("base64");
    }
    const live: Json = { ...inputs, data: wrapped ? secret(data) : data };
    delete live.stringData;
    return live;
}

/** The live object of a Kubernetes resource the provider created (custom resources' controllers aside). */
export function kubernetesOutputs(type: string, name: string, inputs: Json, at: string): Json {
    if (type === "kubernetes:helm.sh/v3:Release") {
        return {
            ...inputs,
            status: {
                name: inputs.name,
                namespace: inputs.namespace,
                chart: inputs.chart,
                version: inputs.version,
                revision: 1,
                status: "deployed",
            },
            resourceNames: {},
        };
    }
    if (!type.startsWith("kubernetes:") || type.startsWith("kubernetes:helm.sh/")) {
        return inputs;
    }
    const live: Json = { ...inputs, metadata: serverMetadata(inputs, name, at) };
    switch (type) {
        case "kubernetes:core/v1:Secret":
            return liveSecret(live);
        case "kubernetes:core/v1:Namespace":
            return { ...live, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } };
        default:
            return live;
    }
}
