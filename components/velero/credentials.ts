/**
 * The secrets that neither git nor the daily backup covers, and that a rebuild needs before Argo CD syncs:
 *
 * - Sealed Secrets' sealing keys: Secrets labelled `sealedsecrets.bitnami.com/sealed-secrets-key` in the
 *   controller's namespace, usually kube-system, which the daily backup excludes (bitnami-labs/sealed-secrets
 *   `pkg/controller/keys.go` `writeKey`; the controller loads every key labelled `active` at start,
 *   `pkg/controller/main.go` `initKeyRegistry`). Without them the rebuilt controller makes a new key and no
 *   SealedSecret in git decrypts.
 * - Argo CD's repository and cluster credentials: Secrets labelled `argocd.argoproj.io/secret-type` in Argo CD's
 *   namespace, which the daily backup excludes too (argo-cd v3.4.4 `common/common.go`; read through a namespace
 *   informer, `util/settings/settings.go`, so a restored one works without a restart). Left out: what the chart
 *   creates (labelled `helm.sh/chart`: argocd-secret, the chart's `configs.repositories`...), which the chart
 *   makes again, and what this program creates (labelled `gitops-dr.io/managed`: the root repository's Secret,
 *   the seed cluster's), which it makes again.
 *
 * They go into a Schedule of their own (`<clusterName>-credentials`, with the daily one's cron and TTL), selected by
 * label in every namespace, and come back by a Restore of their own before the root Application is created.
 */
import type { BackupTier } from "../config";
import { MANAGED_LABEL } from "../names";
import { WRITE_LOCATION } from "./names";

/** The label of Sealed Secrets' sealing keys (`active` or `compromised`). */
export const SEALING_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key";
/** The label that makes Argo CD read a Secret as credentials. */
export const ARGO_SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type";
/** The credential types Argo CD reads (argo-cd v3.4.4 `common/common.go`). */
export const ARGO_CREDENTIAL_TYPES = [
    "repository",
    "repo-creds",
    "repository-write",
    "repo-write-creds",
    "cluster",
] as const;
/** The label a Schedule carries when it backs up credentials, not data (policies tell them apart by it). */
export const BACKUP_KIND_LABEL = "gitops-dr.io/backup-kind";

/** The Schedule's name for a cluster: next to its daily one. */
export function credentialsScheduleName(clusterName: string): string {
    return `${clusterName}-credentials`;
}

/**
 * The label selectors, OR'ed (Velero `orLabelSelectors`: a Backup or Restore takes an item matching any): sealing
 * keys; Argo CD credentials that neither the chart nor this program creates. `cluster` credentials are left out
 * of a drill's restore: a drill syncs prod's git, and prod's cluster Secrets would let it deploy to prod's other
 * clusters.
 */
export function credentialSelectors(withClusters = true): Record<string, unknown>[] {
    const types = ARGO_CREDENTIAL_TYPES.filter((t) => withClusters || t !== "cluster");
    return [
        { matchExpressions: [{ key: SEALING_KEY_LABEL, operator: "Exists" }] },
        {
            matchExpressions: [
                { key: ARGO_SECRET_TYPE_LABEL, operator: "In", values: [...types] },
                { key: "helm.sh/chart", operator: "DoesNotExist" },
                { key: MANAGED_LABEL, operator: "DoesNotExist" },
            ],
        },
    ];
}

/** The credentials Schedule's spec (fields from ../shared/reference/velero-1.18-crds/schedules.yaml). */
export function credentialsScheduleSpec(daily: BackupTier): Record<string, unknown> {
    return {
        schedule: daily.cron,
        useOwnerReferencesInBackup: false,
        template: {
            ttl: daily.ttl,
            storageLocation: WRITE_LOCATION,
            // Every namespace: the sealing keys live where the controller runs, whatever the user chose.
            includedNamespaces: ["*"],
            includedResources: ["secrets"],
            includeClusterResources: false,
            orLabelSelectors: credentialSelectors(),
            snapshotVolumes: false,
        },
    };
}
