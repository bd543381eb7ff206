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
 *   informer, `util/settings/settings.go`, so a restored one works without a restart). Left out: what the argo-cd
 *   chart creates (argocd-secret, the chart's `configs.repositories`...), which the chart makes again, and what
 *   this program creates (labelled `gitops-dr.io/managed`: the root repository's Secret, the seed cluster's),
 *   which it makes again.
 *
 * They go into a Schedule of their own (`<clusterName>-credentials`, with the daily one's cron and TTL), selected by
 * label in every namespace, and come back by a Restore of their own before the root Application is created.
 */
import type { BackupTier } from "../config";
import { MANAGED_LABEL } from "../names";
import { VERIFY_SCRATCH_NAMESPACES, WRITE_LOCATION } from "./names";

/** The label of Sealed Secrets' sealing keys (`active` or `compromised`). */
export const SEALING_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key";
/** The label that makes Argo CD read a Secret as credentials. */
export const ARGO_SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type";
/**
 * The credential types Argo CD reads (argo-cd v3.4.4 `common/common.go`): repositories, their templates, the
 * write credentials the commit server pushes with, clusters, and the SCM tokens of ApplicationSet generators.
 */
export const ARGO_CREDENTIAL_TYPES = [
    "repository",
    "repo-creds",
    "repository-write",
    "repo-write-creds",
    "cluster",
    "scm-creds",
] as const;
/**
 * What a drill leaves out: prod's cluster credentials (its Argo CD could deploy to prod's other clusters) and its
 * write credentials (its commit server could push to prod's git, argo-cd v3.4.4 `util/db/repository.go`
 * `GetWriteRepository`).
 */
export const DRILL_OMITTED_CREDENTIALS: readonly string[] = ["cluster", "repository-write", "repo-write-creds"];
/** The label a Schedule carries when it backs up credentials, not data (policies tell them apart by it). */
export const BACKUP_KIND_LABEL = "gitops-dr.io/backup-kind";

/** The Schedule's name for a cluster: next to its daily one. */
export function credentialsScheduleName(clusterName: string): string {
    return `${clusterName}-credentials`;
}

/**
 * The label selectors, OR'ed (Velero `orLabelSelectors`: a Backup or Restore takes an item matching any): sealing
 * keys; Argo CD credentials that neither the argo-cd chart nor this program creates. The chart's carry both
 * `app.kubernetes.io/managed-by: Helm` and `app.kubernetes.io/part-of: argocd` (argo-helm `argo-cd.labels`), so a
 * credential lacking either is taken, including one another chart made; the program's carry `gitops-dr.io/managed`.
 * A drill's restore leaves out {@link DRILL_OMITTED_CREDENTIALS}.
 */
export function credentialSelectors(forDrill = false): Record<string, unknown>[] {
    const types = ARGO_CREDENTIAL_TYPES.filter((t) => !forDrill || !DRILL_OMITTED_CREDENTIALS.includes(t));
    const argo = (notMadeByChart: Record<string, unknown>) => ({
        matchExpressions: [
            { key: ARGO_SECRET_TYPE_LABEL, operator: "In", values: [...types] },
            notMadeByChart,
            { key: MANAGED_LABEL, operator: "DoesNotExist" },
        ],
    });
    return [
        { matchExpressions: [{ key: SEALING_KEY_LABEL, operator: "Exists" }] },
        argo({ key: "app.kubernetes.io/managed-by", operator: "NotIn", values: ["Helm"] }),
        argo({ key: "app.kubernetes.io/part-of", operator: "NotIn", values: ["argocd"] }),
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
            // But not the verification's scratch copies (names.ts): a restored credential there is a copy.
            excludedNamespaces: [VERIFY_SCRATCH_NAMESPACES],
            includedResources: ["secrets"],
            includeClusterResources: false,
            orLabelSelectors: credentialSelectors(),
            snapshotVolumes: false,
        },
    };
}
