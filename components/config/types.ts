/**
 * The validated configuration's types. {@link StackConfig} is what every component receives; nothing outside
 * components/config reads `pulumi.Config`.
 */
import type * as pulumi from "@pulumi/pulumi";

import type { UserValues } from "./user-values";
import type { FileSystemBackupVolumeType } from "../velero/volume-policy";

/** What a stack does with the cluster it points at. */
export type Mode =
    /** The live cluster: creates (or joins) the vault and backs up daily. */
    | "protect"
    /** A new cluster replacing a lost one: restores the lost cluster's backups, then protects itself. */
    | "recover"
    /** A throwaway rebuild from prod's backups, strictly read-only towards them. */
    | "drill";
export const MODES: readonly Mode[] = ["protect", "recover", "drill"];

export type LockMode = "GOVERNANCE" | "COMPLIANCE";
export const LOCK_MODES: readonly LockMode[] = ["GOVERNANCE", "COMPLIANCE"];

export type CredentialsMode = "irsa" | "podIdentity" | "staticKeys";
export const CREDENTIALS_MODES: readonly CredentialsMode[] = ["irsa", "podIdentity", "staticKeys"];

export type VolumeDataMode = "dataMover" | "nativeSnapshots";
export const VOLUME_DATA_MODES: readonly VolumeDataMode[] = ["dataMover", "nativeSnapshots"];

/** S3 storage classes a lifecycle rule may move backups to (instant-access classes only, see `storageTransitions`). */
export type TransitionStorageClass = "STANDARD_IA" | "INTELLIGENT_TIERING" | "GLACIER_IR";

/** A lifecycle transition of current backup objects. */
export interface StorageTransition {
    readonly storageClass: TransitionStorageClass;
    readonly days: number;
}

/** One Velero backup schedule (the daily one, or a longer-lived tier). */
export interface BackupTier {
    readonly key: "daily" | "weekly" | "monthly" | "credentials";
    /** Name of the Schedule object: `<clusterName>-<key>`, so backups say which cluster took them. */
    readonly name: string;
    readonly cron: string;
    /** Go duration, e.g. `720h`. */
    readonly ttl: string;
    readonly ttlHours: number;
}

/** Where the vault is and how it is configured. Every location value is known before any resource exists. */
export interface VaultSettings {
    /** protect only: this stack creates the bucket, its KMS key and the replica. */
    readonly create: boolean;
    readonly bucketName: string;
    readonly region: string;
    /** Absent only when the vault creates its own key. */
    readonly kmsKeyArn?: string;
    readonly lockMode: LockMode;
    readonly lockDays: number;
    readonly noncurrentVersionExpirationDays: number;
    readonly abortIncompleteMultipartUploadDays: number;
    readonly transitions: readonly StorageTransition[];
    readonly replica?: { readonly region: string; readonly bucketName: string };
    /** The principals that alone may disable or delete the keys the vault creates (empty when it creates none). */
    readonly breakGlassPrincipalArns: readonly string[];
}

/** The backups a recover or drill stack restores from, resolved from config and the source stack's outputs. */
export interface SourceSettings {
    /** Fully qualified name of the protect stack, when its outputs were read. */
    readonly stack?: string;
    /** Prefix of the lost (or prod) cluster's backups. */
    readonly prefix: string;
    /** The lost cluster's daily Schedule name, which labels its backups (`velero.io/schedule-name`). */
    readonly scheduleName: string;
    /** The lost cluster's credentials Schedule, restored before Argo CD syncs; absent when restoreCredentials is false. */
    readonly credentialsScheduleName?: string;
    /**
     * `sourceReplica`: the backups are read from the vault's off-site replica, not from the vault (whose region may
     * be down). Absent: the vault. The cluster's own backups (recover) go to the vault either way.
     */
    readonly replica?: ReplicaLocation;
}

/** Where a vault's off-site replica is: what a recovery from it reads. */
export interface ReplicaLocation {
    readonly bucketName: string;
    readonly region: string;
    /** The replica's own KMS key, in its region (S3 replicates re-encrypting with it). */
    readonly kmsKeyArn: string;
}

export type CredentialSettings =
    | { readonly mode: "irsa"; readonly oidcProviderArn: string }
    | { readonly mode: "podIdentity"; readonly eksClusterName: string; readonly clusterRegion: string }
    | {
          readonly mode: "staticKeys";
          /** The key pair set as secrets, or `create`: the stack makes an IAM user and its access key. */
          readonly keys: StaticKeys | "create";
      };

/** An access key pair of the IAM user Velero runs as, both secret. */
export interface StaticKeys {
    readonly accessKeyId: pulumi.Output<string>;
    readonly secretAccessKey: pulumi.Output<string>;
}

export interface VeleroSettings {
    readonly namespace: string;
    readonly releaseName: string;
    readonly volumeDataMode: VolumeDataMode;
    readonly awsPluginVersion: string;
    /** Images of further Velero plugins (`veleroPlugins`), pinned, run after the AWS plugin. */
    readonly plugins: readonly string[];
    /** Empty in a drill: it takes no backups. */
    readonly tiers: readonly BackupTier[];
    /** The credentials Schedule (the daily tier's cron and TTL, `<clusterName>-credentials`); absent in a drill. */
    readonly credentialsTier?: BackupTier;
    readonly excludedNamespaces: readonly string[];
    /** kopia repository password, always a secret. */
    readonly repoPassword: pulumi.Output<string>;
    /** Include pods in the backups so their backup hooks run (application-consistent backups). */
    readonly consistentBackups: boolean;
    /** Volume types backed up by file-system backup (components/velero/volume-policy.ts); empty: off. */
    readonly fileSystemBackupVolumeTypes: readonly FileSystemBackupVolumeType[];
    /** CSI drivers to create a labelled VolumeSnapshotClass for (modes that back up, data mover). */
    readonly volumeSnapshotClassDrivers: readonly string[];
    /** Node labels the data-mover pods must run on (`loadAffinity`); empty: any node. */
    readonly dataMoverNodeLabels: Readonly<Record<string, string>>;
    /** `gitops-dr:veleroValues`, checked against the guarded paths. */
    readonly userValues: UserValues;
}

/** One `loadConcurrency.perNodeConfig` rule: the nodes whose labels match run `number` loads at once. */
export interface NodeConcurrency {
    readonly nodeLabels: Readonly<Record<string, string>>;
    readonly number: number;
}

/**
 * How fast Velero moves volume data (README "Recovery time"): loads per node in the node agent, files per load in
 * kopia. Velero's own defaults are in components/velero/node-agent.ts (`VELERO_DATA_PATH_DEFAULTS`).
 */
export interface DataPathSettings {
    /** node-agent `loadConcurrency.globalConfig`. */
    readonly loadConcurrency: number;
    /** node-agent `loadConcurrency.perNodeConfig`; empty: every node takes `loadConcurrency`. */
    readonly perNodeConcurrency: readonly NodeConcurrency[];
    /** Every Schedule's `template.uploaderConfig.parallelFilesUpload`. */
    readonly parallelFilesUpload: number;
    /** The data Restore's `uploaderConfig.parallelFilesDownload`. */
    readonly parallelFilesDownload: number;
}

export interface GitRepository {
    readonly url: string;
    readonly path: string;
    readonly revision: string;
    readonly username?: string;
    readonly password?: pulumi.Output<string>;
    readonly sshPrivateKey?: pulumi.Output<string>;
}

export interface ArgoCdSettings {
    readonly namespace: string;
    readonly releaseName: string;
    readonly repository: GitRepository;
    /** protect only: Applications allowed to create their first claims and Secrets. Empty: none. */
    readonly newAppVolumes: readonly string[];
    /** `gitops-dr:argoCdValues`, checked against the guarded paths. */
    readonly userValues: UserValues;
}

/** How a recover or drill stack restores, or which namespaces a protect stack restores into itself. */
export interface RestoreSettings {
    /** Makes the Restore's name unique per recovery or drill; part of every restore resource's name. */
    readonly id: string;
    /** Restore exactly this backup instead of the newest Completed one of the source's daily schedule. */
    readonly backupName?: string;
    /** Let a named PartiallyFailed backup be restored. */
    readonly acceptPartiallyFailedBackup: boolean;
    /** Let the rebuild go on after a PartiallyFailed restore (loudly). */
    readonly acceptPartiallyFailedRestore: boolean;
    /** Restore the newest Completed backup although newer ones did not complete. */
    readonly acceptOlderBackup: boolean;
    /** Let the rebuild go on after a restore that ended Completed with warnings. */
    readonly acceptRestoreWarnings: boolean;
    /** Restrict the restore to these namespaces; empty: all. */
    readonly namespaces: readonly string[];
    /** Old namespace -> new one, to restore into another namespace. */
    readonly namespaceMappings: Readonly<Record<string, string>>;
    /** Old StorageClass name -> new one, for volumes whose class does not exist in the new cluster. */
    readonly storageClassMappings: Readonly<Record<string, string>>;
    readonly backupCheckTimeoutMinutes: number;
    readonly restoreTimeoutMinutes: number;
}

/** One per-app check of a drill: a command run in a workload's pod. */
export interface DrillCheck {
    readonly namespace: string;
    /** `deploy/name`, `statefulset/name`, `pod/name`: what `kubectl exec` takes. */
    readonly target: string;
    readonly command: readonly string[];
}

/** How a drill verifies the rebuild (drill only). */
export interface DrillSettings {
    readonly checks: readonly DrillCheck[];
    readonly verifyTimeoutMinutes: number;
    /** CIDRs outside the cluster the restored namespaces may reach (NetworkPolicy ipBlocks), canonical. */
    readonly egressAllow: readonly string[];
}

/** The protect stack's preflight of its StorageClasses (components/velero/preflight.ts). */
export interface StoragePreflightSettings {
    /** Classes whose volumes are accepted without data (`storageClassesWithoutData`). */
    readonly acknowledged: readonly string[];
}

/** The check after each backup that every backed-up claim has data (components/verify/backup-check.ts). */
export interface BackupCheckSettings {
    /** The CronJob's schedule (UTC). */
    readonly schedule: string;
    /** The longest gap between two runs, in seconds (at most a day). */
    readonly periodSeconds: number;
}

/** The weekly verification of a protect stack's backups (components/verify). */
export interface VerifySettings {
    /** The CronJob's schedule (UTC). */
    readonly schedule: string;
    /** The longest gap between two runs, in seconds: a run must pass within it (the stale alert adds a day). */
    readonly periodSeconds: number;
    readonly namespacesPerRun: number;
    readonly maxClaims: number;
}

export interface MonitoringSettings {
    readonly prometheusOperator: boolean;
    /** Extra labels on the ServiceMonitor, PodMonitor and PrometheusRule (Prometheus selectors). */
    readonly labels: Readonly<Record<string, string>>;
}

/** Where a pinned chart is installed from. The version is always the pinned one (components/versions.ts). */
export type ChartSource =
    /** The chart's public repository, as pinned. */
    | { readonly kind: "public" }
    /** An OCI registry the chart was pushed to: the chart is `<url>/<chart name>:<pinned version>`. */
    | { readonly kind: "oci"; readonly url: string }
    /** A Helm HTTP repository (an `index.yaml`) that mirrors the chart. */
    | { readonly kind: "https"; readonly url: string }
    /** A chart archive (`helm pull`'s `.tgz`) on the machine that runs Pulumi, checked to be the pinned chart. */
    | { readonly kind: "archive"; readonly path: string };

/** Private mirrors of the charts and images, so that a recovery needs no public endpoint. */
export interface MirrorSettings {
    readonly veleroChart: ChartSource;
    readonly argoCdChart: ChartSource;
    /** `host[:port][/path]` every image is pulled from; absent: each image's public registry. */
    readonly imageRegistry?: string;
}

/** The whole validated stack configuration. Deeply frozen. */
export interface StackConfig {
    readonly project: string;
    readonly stack: string;
    readonly mode: Mode;
    readonly clusterName: string;
    /** Empty string: the kubeconfig's current context. */
    readonly kubeContext: string;
    /** Prefix this cluster writes its own backups under; absent in a drill, which writes none. */
    readonly prefix?: string;
    readonly vault: VaultSettings;
    /** Present in recover and drill. */
    readonly source?: SourceSettings;
    readonly credentials: CredentialSettings;
    readonly velero: VeleroSettings;
    readonly dataPath: DataPathSettings;
    readonly argoCd: ArgoCdSettings;
    /** Present in recover and drill. */
    readonly restore?: RestoreSettings;
    /** Present in drill. */
    readonly drill?: DrillSettings;
    /** protect: the weekly verification; undefined when switched off and in the other modes. */
    readonly verify?: VerifySettings;
    /** protect, recover: the check that every backed-up claim has data; undefined when switched off and in a drill. */
    readonly backupCheck?: BackupCheckSettings;
    /** protect: the preflight that names StorageClasses whose volumes would get no data. */
    readonly storagePreflight?: StoragePreflightSettings;
    readonly monitoring: MonitoringSettings;
    readonly mirrors: MirrorSettings;
    /** protect with createBucket and vaultAccountRoleArn: the vault lives in an account of its own. */
    readonly vaultAccount?: VaultAccountSettings;
    /** protect with createBucket: the vault's audit trail and alarms. */
    readonly audit?: AuditSettings;
}

/** The dedicated account the vault is created in, and who outside it may use the vault. */
export interface VaultAccountSettings {
    /** The role the vault's AWS provider assumes, in the vault account. */
    readonly roleArn: string;
    /** The vault account's id, from `roleArn`. */
    readonly accountId: string;
    /** `aws`, `aws-cn`, `aws-us-gov`, from `roleArn`. */
    readonly partition: string;
    /** Velero roles of recover and drill clusters in other accounts, granted read-only restore from `prefix`. */
    readonly restorerRoleArns: readonly string[];
}

/** The vault's audit trail (CloudTrail into a locked log bucket) and its alarms (EventBridge to SNS). */
export interface AuditSettings {
    /** Create the CloudTrail trail and its log bucket; false when an organisation trail already logs the vault. */
    readonly trail: boolean;
    /** Addresses subscribed to the alarm topic. */
    readonly alertEmails: readonly string[];
    /** The log bucket's name. */
    readonly logBucketName: string;
    /** How long each log file is locked (the vault's lock mode) and kept. */
    readonly logDays: number;
}
