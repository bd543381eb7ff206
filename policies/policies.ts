/**
 * The gitops-dr policy pack's contents: every policy, in the order reports list them, and the pack's
 * metadata. `index.ts` serves these; tests and the offline gate import them from here.
 */
import type { PolicyPackArgs, Policies } from "@pulumi/policy";

import { argocdAppNoCascadeDelete } from "./rules/argocd-app-no-cascade-delete";
import { argocdNewAppVolumesSwitch } from "./rules/argocd-new-app-volumes-switch";
import { argocdResourceExclusions } from "./rules/argocd-resource-exclusions";
import { argocdRootAppAfterRestore } from "./rules/argocd-root-app-after-restore";
import { iamPolicyNoWildcardActions } from "./rules/iam-policy-no-wildcard-actions";
import { iamRestoreRoleReadOnly } from "./rules/iam-restore-role-read-only";
import { iamRoleNoLockBypass } from "./rules/iam-role-no-lock-bypass";
import { argocdReleaseVersionsPinned } from "./rules/argocd-release-versions-pinned";
import { vaultBucketEncryption } from "./rules/vault-bucket-encryption";
import { vaultBucketLifecycle } from "./rules/vault-bucket-lifecycle";
import { vaultBucketObjectLock } from "./rules/vault-bucket-object-lock";
import { vaultBucketPolicyAdmitsBackups } from "./rules/vault-bucket-policy-admits-backups";
import { vaultBucketPolicyNoGrants } from "./rules/vault-bucket-policy-no-grants";
import { vaultBucketPublicAccess } from "./rules/vault-bucket-public-access";
import { vaultBucketTlsOnly } from "./rules/vault-bucket-tls-only";
import { vaultBucketVersioning } from "./rules/vault-bucket-versioning";
import { vaultAuditLogLocked } from "./rules/vault-audit-log-locked";
import { vaultKmsKey } from "./rules/vault-kms-key";
import { vaultLockGovernanceMode } from "./rules/vault-lock-governance-mode";
import { vaultReplicaMissing } from "./rules/vault-replica-missing";
import { vaultResourcesProtected } from "./rules/vault-resources-protected";
import { veleroAlertsDeployed } from "./rules/velero-alerts-deployed";
import { veleroCredentialsBackedUp } from "./rules/velero-credentials-backed-up";
import { veleroDrillReadOnly } from "./rules/velero-drill-read-only";
import { veleroNoPlaintextCredentials } from "./rules/velero-no-plaintext-credentials";
import { veleroRecoverSourceReadOnly } from "./rules/velero-recover-source-read-only";
import { veleroReleaseVersionsPinned } from "./rules/velero-release-versions-pinned";
import { veleroRepositoryPassword } from "./rules/velero-repository-password";
import { veleroRestoreAfterSyncBarrier } from "./rules/velero-restore-after-sync-barrier";
import { veleroRestoreNotOwnSchedule } from "./rules/velero-restore-not-own-schedule";
import { veleroRestoreSource } from "./rules/velero-restore-source";
import { veleroScheduleExcludedNamespaces } from "./rules/velero-schedule-excluded-namespaces";
import { veleroScheduleFrequency } from "./rules/velero-schedule-frequency";
import { veleroScheduleLocation } from "./rules/velero-schedule-location";
import { veleroScheduleResources } from "./rules/velero-schedule-resources";
import { veleroScheduleTtlWithinLock } from "./rules/velero-schedule-ttl-within-lock";
import { veleroScheduleVolumeData } from "./rules/velero-schedule-volume-data";
import { veleroSchedulesAfterRestore } from "./rules/velero-schedules-after-restore";

/** The pack's name, as `pulumi preview --policy-pack` reports it. */
export const PACK_NAME = "gitops-dr";

export const POLICIES: Policies = [
    // The vault.
    vaultBucketObjectLock,
    vaultBucketVersioning,
    vaultAuditLogLocked,
    vaultBucketEncryption,
    vaultKmsKey,
    vaultBucketPublicAccess,
    vaultBucketTlsOnly,
    vaultBucketPolicyAdmitsBackups,
    vaultBucketPolicyNoGrants,
    vaultBucketLifecycle,
    vaultResourcesProtected,
    vaultLockGovernanceMode,
    vaultReplicaMissing,
    // Velero and its backups.
    veleroReleaseVersionsPinned,
    argocdReleaseVersionsPinned,
    veleroRepositoryPassword,
    veleroNoPlaintextCredentials,
    veleroScheduleFrequency,
    veleroScheduleLocation,
    veleroScheduleResources,
    veleroScheduleVolumeData,
    veleroScheduleTtlWithinLock,
    veleroScheduleExcludedNamespaces,
    veleroCredentialsBackedUp,
    veleroDrillReadOnly,
    veleroRecoverSourceReadOnly,
    veleroAlertsDeployed,
    // IAM.
    iamPolicyNoWildcardActions,
    iamRoleNoLockBypass,
    iamRestoreRoleReadOnly,
    // The restore order of recover and drill stacks.
    veleroRestoreAfterSyncBarrier,
    veleroRestoreSource,
    veleroRestoreNotOwnSchedule,
    veleroSchedulesAfterRestore,
    argocdRootAppAfterRestore,
    // Argo CD.
    argocdResourceExclusions,
    argocdAppNoCascadeDelete,
    argocdNewAppVolumesSwitch,
];

export const PACK_ARGS: PolicyPackArgs = {
    policies: POLICIES,
    description:
        "Gates misconfigured backups: judges the vault, Velero, IAM, the restore order and Argo CD exactly as the gitops-dr program registers them.",
    displayName: "gitops-dr backup gate",
    provider: "aws",
    tags: ["backup", "disaster-recovery", "velero", "argocd", "s3"],
};
