/**
 * Velero resource modifiers: JSON patches applied to restored objects (velero v1.18.1
 * `internal/resourcemodifiers`). Read from a ConfigMap in the Restore's namespace with exactly one data key, strictly
 * (unknown fields refused), `version: v1` and at least one rule (`Validate`: "resource modifier rules cannot be
 * empty"), each with a `groupResource` and one kind of patch; a bad one ends the Restore in FailedValidation
 * (`restore_controller.go` `validateAndComplete`). They run after the restore item actions, each rule matched
 * against the object as it was before any rule (`ApplyResourceModifierRules`).
 */
import { QUARANTINED_LABEL } from "../tasks/labels";

/** The resource-modifier ConfigMap a drill's Restore names. */
export const MODIFIERS_CONFIGMAP = "gitops-dr-restore-modifiers";
/** Its one data key. */
export const MODIFIERS_KEY = "modifiers.yaml";

/**
 * One JSON patch operation as Velero reads it (`internal/resourcemodifiers/json_patch.go` `JSONPatch`): `value` is a
 * string that Velero splices into the patch unquoted when it is JSON (an object, array, number, boolean or null) and
 * quoted otherwise (`ToString`, `addQuotes`).
 */
export interface JsonPatchOperation {
    readonly operation: "add" | "remove" | "replace" | "copy" | "move" | "test";
    readonly path: string;
    readonly from?: string;
    readonly value?: string;
}

/** One rule, as Velero reads it: exactly one kind of patch (`Validate`). */
export type ModifierRule = {
    readonly conditions: {
        readonly groupResource: string;
        readonly resourceNameRegex?: string;
        readonly namespaces?: readonly string[];
        /** JSON-pointer paths and the values they must hold in the object before any rule; a missing path does not match. */
        readonly matches?: readonly { readonly path: string; readonly value: string }[];
    };
} & (
    | { readonly mergePatches: readonly { readonly patchData: string }[]; readonly patches?: undefined }
    | { readonly patches: readonly JsonPatchOperation[]; readonly mergePatches?: undefined }
);

/** The volume sources of a PersistentVolume (core/v1 `PersistentVolumeSource`): one of them says where data is. */
export const PERSISTENT_VOLUME_SOURCES = [
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "hostPath",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
] as const;

/** The namespace a quarantined volume is reserved for; it never exists. */
export const QUARANTINE_NAMESPACE = "gitops-dr-quarantine";

/** `^(a|b)$` with every name escaped. */
export const exactly = (names: readonly string[]) =>
    `^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})$`;

/**
 * The rules that keep a drill from touching the source's live storage. A volume restored as it is (neither
 * snapshotted nor moved, Retain: static NFS, EFS) would still point at the source's volume (velero `restore.go`
 * `handleSkippedPVHasRetainPolicy`). For each such volume, by name: its source is replaced by a hostPath that
 * does not exist (a Directory type, so a mount fails rather than creating it) and it is reserved for a claim in a
 * namespace that never exists, so no claim binds it; its claim, by namespace and name, is labelled quarantined, so
 * the checks after the restore know it holds no data on purpose. Merge patches (RFC 7386): `null` removes a key and
 * a missing key is no error, whatever source the volume had.
 */
export function quarantineRules(
    quarantined: readonly { readonly claim: string; readonly volume: string }[],
): ModifierRule[] {
    if (quarantined.length === 0) {
        return [];
    }
    const spec: Record<string, unknown> = Object.fromEntries(PERSISTENT_VOLUME_SOURCES.map((s) => [s, null]));
    spec.hostPath = { path: "/nonexistent/gitops-dr-quarantine", type: "Directory" };
    spec.nodeAffinity = null;
    spec.claimRef = { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: QUARANTINE_NAMESPACE, name: "none" };
    // Mount options are refused for a hostPath volume (kubernetes pkg/volume/validation/pv_validation.go
    // `checkMountOption`): the PV would fail to create and the restore end PartiallyFailed.
    spec.mountOptions = null;
    const label = { metadata: { labels: { [QUARANTINED_LABEL]: "true" } } };
    const volumeLabel = {
        metadata: {
            labels: { [QUARANTINED_LABEL]: "true" },
            annotations: { "volume.beta.kubernetes.io/mount-options": null },
        },
    };
    const byNamespace = new Map<string, string[]>();
    // A volume no backed-up claim uses has no claim to label.
    for (const { claim } of quarantined.filter((q) => q.claim !== "")) {
        const [ns, name] = claim.split("/");
        byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), name]);
    }
    return [
        {
            conditions: {
                groupResource: "persistentvolumes",
                resourceNameRegex: exactly(quarantined.map((q) => q.volume)),
            },
            mergePatches: [{ patchData: JSON.stringify({ ...volumeLabel, spec }) }],
        },
        ...[...byNamespace].map(([ns, names]) => ({
            conditions: {
                groupResource: "persistentvolumeclaims",
                namespaces: [ns],
                resourceNameRegex: exactly(names),
            },
            mergePatches: [{ patchData: JSON.stringify(label) }],
        })),
    ];
}

/** The annotation that lets Sealed Secrets' controller take over a Secret it does not own. */
export const SEALED_SECRETS_MANAGED = "sealedsecrets.bitnami.com/managed";

/**
 * Restored Secrets may be taken over by Sealed Secrets. Velero strips `ownerReferences` from what it restores
 * (velero v1.18.1 `pkg/restore/restore.go` `resetMetadata`), and the controller refuses to update a Secret its
 * SealedSecret does not control ("already exists and is not managed by SealedSecret", bitnami-labs/sealed-secrets
 * `pkg/controller/controller.go` `unseal`; the UID of the new SealedSecret differs anyway) unless the Secret is
 * annotated `sealedsecrets.bitnami.com/managed: "true"`; then it replaces the Secret's data, sets its owner again
 * and drops the annotation. Nothing in a restored Secret says which SealedSecret made it (the owner is gone, and
 * modifiers run after it went), so every restored Secret gets the annotation: it does nothing where no SealedSecret
 * has that name. External Secrets Operator needs nothing: it adopts and refreshes an existing Secret its
 * ExternalSecret targets (external-secrets `pkg/controllers/externalsecret/externalsecret_controller.go`).
 */
export const SEALED_SECRETS_RULE: ModifierRule = {
    conditions: { groupResource: "secrets" },
    mergePatches: [{ patchData: JSON.stringify({ metadata: { annotations: { [SEALED_SECRETS_MANAGED]: "true" } } }) }],
};

/**
 * A rule that matches nothing, so the ConfigMap is valid when there is nothing to modify (Velero refuses an empty
 * rule list, and the Restore names the ConfigMap whatever the pre-restore checks found).
 */
export const NO_OP_RULE: ModifierRule = {
    conditions: { groupResource: "persistentvolumes", resourceNameRegex: "^$" },
    mergePatches: [{ patchData: "{}" }],
};

/** The ConfigMap's document: the rules, or the rule that matches nothing. */
export function modifiersDocument(rules: readonly ModifierRule[]): string {
    return JSON.stringify({ version: "v1", resourceModifierRules: rules.length > 0 ? rules : [NO_OP_RULE] }, null, 2);
}
