/**
 * The catalogue of every `gitops-dr:` key: name, type, description, default, secret, the modes it applies to.
 * It is the one source: `Pulumi.yaml`'s `config:` block and the README's inputs table are checked against it by
 * tests/catalogue.test.ts, and `npm run catalogue` prints both from it.
 *
 * Which keys `Pulumi.yaml` declares follows from how the CLI treats a declaration (pulumi
 * `sdk/go/common/workspace/config.go`, `mergeConfig`): a declared key with no `default` must be set on every
 * stack or the CLI refuses to run it, and a declared `default` is passed to the program exactly as if the stack
 * had set it. So a key is declared only when it is required in every mode (no default) or has one default for
 * every mode. Keys that are optional, or whose default depends on the mode or on other keys, stay undeclared;
 * the program validates them like every other key.
 */
import { DEFAULT_NAMES } from "../names";
import { ARGO_CD_CHART, VELERO_AWS_PLUGIN, VELERO_CHART, VELERO_IMAGE } from "../versions";
import { AUDIT_KEYS, VAULT_ACCOUNT_KEYS } from "./keys-audit";
import { RESTORE_KEYS } from "./keys-restore";
import type { Mode } from "./types";

/** The Pulumi project name, which is also the config namespace. */
export const PROJECT = "gitops-dr";

/** The types Pulumi.yaml can declare for a project config key. */
export type ConfigKeyType = "string" | "integer" | "boolean" | "array" | "object";

/** The concern a key belongs to; the README groups its inputs table by it. */
export type ConfigGroup =
    | "stack"
    | "vault"
    | "source"
    | "credentials"
    | "velero"
    | "schedules"
    | "argocd"
    | "restore"
    | "drill"
    | "verify"
    | "monitoring"
    | "mirrors"
    | "audit";

/** One key of the catalogue. */
export interface ConfigKeySpec {
    readonly type: ConfigKeyType;
    readonly group: ConfigGroup;
    readonly description: string;
    /** The default for every mode; declared in Pulumi.yaml. */
    readonly default?: string | number | boolean | readonly string[];
    /** Required in every mode: declared in Pulumi.yaml without a default, so the CLI itself refuses a stack without it. */
    readonly required?: true;
    /** Must be set with `pulumi config set --secret`. */
    readonly secret?: true;
    /** The modes the key applies to; absent: all. */
    readonly modes?: readonly Mode[];
}

const BACKING_UP: readonly Mode[] = ["protect", "recover"];
const RESTORING: readonly Mode[] = ["recover", "drill"];

export const CONFIG_KEYS = {
    // --- stack ---
    mode: {
        type: "string",
        group: "stack",
        default: "protect",
        description:
            "What this stack does: protect (live cluster, creates or joins the vault, backs up), recover (restores a lost cluster, then protects itself) or drill (read-only rebuild test from prod's backups).",
    },
    clusterName: {
        type: "string",
        group: "stack",
        required: true,
        description:
            "Name of the cluster this stack runs against (lowercase letters, digits, hyphens; at most 40). Names its IAM role, its Schedules (<clusterName>-daily) and is the default prefix.",
    },
    kubeContext: {
        type: "string",
        group: "stack",
        default: "",
        description:
            "kubeconfig context of the target cluster. Empty uses the current context (protect only: recover and drill stacks must name the new cluster's context, since they adopt objects that already exist).",
    },
    allowUnlistedRegion: {
        type: "boolean",
        group: "stack",
        default: false,
        description:
            "Accept an AWS region that the pinned @pulumi/aws does not list yet (a region newer than the provider). Leave false to have typos refused.",
    },
    // --- vault ---
    region: {
        type: "string",
        group: "vault",
        description:
            "AWS region of the vault bucket. Required in protect; recover and drill read it from sourceStack unless set.",
    },
    bucketName: {
        type: "string",
        group: "vault",
        description:
            "Name of the vault bucket: created by a protect stack with createBucket, otherwise an existing one. Required in protect; recover and drill read it from sourceStack unless set.",
    },
    createBucket: {
        type: "boolean",
        group: "vault",
        modes: ["protect"],
        description:
            "protect only: create the vault (bucket, KMS key, replica). false joins a vault another protect stack created. Defaults to true.",
    },
    prefix: {
        type: "string",
        group: "vault",
        modes: BACKING_UP,
        description:
            "Prefix under which this cluster writes its backups in the vault (protect, recover). Defaults to clusterName.",
    },
    kmsKeyArn: {
        type: "string",
        group: "vault",
        description:
            "ARN of the vault's KMS key (a key ARN in the vault's region, not an alias). Unset in a protect stack that creates the vault makes a new customer-managed key; required when joining an existing vault; recover and drill read it from sourceStack unless set.",
    },
    lockMode: {
        type: "string",
        group: "vault",
        default: "COMPLIANCE",
        description:
            "Default Object Lock retention mode of the vault: COMPLIANCE (nobody, not even the account root, can delete a locked version before it expires) or GOVERNANCE (principals with s3:BypassGovernanceRetention can).",
    },
    lockDays: {
        type: "integer",
        group: "vault",
        default: 31,
        description:
            "Default Object Lock retention in days (1-3650). Must cover every backup TTL so that every backup Velero lists is locked; the default leaves a day over the 720h TTL for Velero's hourly garbage collection. COMPLIANCE above 366 days needs complianceLockDaysAcknowledged.",
    },
    complianceLockDaysAcknowledged: {
        type: "integer",
        group: "vault",
        description:
            "With lockMode COMPLIANCE and lockDays above 366: set it to the same number as lockDays to confirm that every object written will be undeletable, and billed, for that long, by anyone including the account root.",
    },
    noncurrentVersionExpirationDays: {
        type: "integer",
        group: "vault",
        description:
            "Days after an object version becomes noncurrent (Velero deleted it) before S3 removes it. At least lockDays. Defaults to lockDays.",
    },
    abortIncompleteMultipartUploadDays: {
        type: "integer",
        group: "vault",
        default: 7,
        description: "Days after which S3 aborts an unfinished multipart upload and frees its parts.",
    },
    storageTransitions: {
        type: "array",
        group: "vault",
        default: [],
        description:
            'Lifecycle transitions of current backup objects, as "STORAGE_CLASS:days" in the order they happen, e.g. ["STANDARD_IA:30", "GLACIER_IR:90"]. Only instant-access classes (STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR).',
    },
    breakGlassPrincipalArns: {
        type: "array",
        group: "vault",
        modes: ["protect"],
        description:
            "protect, when the stack creates the vault's KMS keys: IAM role or user ARNs (no wildcards) that alone may disable the keys, schedule their deletion or change their key policy. Required then; the principal that runs `pulumi up` must be one of them (AWS's key policy lockout check).",
    },
    replicaRegion: {
        type: "string",
        group: "vault",
        modes: ["protect"],
        description: "protect with createBucket: AWS region of the off-site replica bucket. Unset: no replica.",
    },
    replicaBucketName: {
        type: "string",
        group: "vault",
        modes: ["protect"],
        description: "Name of the replica bucket. Defaults to <bucketName>-replica.",
    },
    ...VAULT_ACCOUNT_KEYS,
    // --- source ---
    sourceStack: {
        type: "string",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill: fully qualified name (org/gitops-dr/stack) of the protect stack whose outputs give bucketName, region, kmsKeyArn, sourcePrefix and the source schedule. Explicit keys win over its outputs.",
    },
    sourcePrefix: {
        type: "string",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill: prefix of the cluster whose backups are restored. Required unless sourceStack provides it.",
    },
    sourceScheduleName: {
        type: "string",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill: the lost cluster's daily Schedule (its backups carry it as velero.io/schedule-name). Defaults to the source stack's dailyScheduleName output; required without sourceStack unless restoreBackupName is set.",
    },
    sourceCredentialsScheduleName: {
        type: "string",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill: the lost cluster's credentials Schedule (Sealed Secrets' sealing keys, Argo CD's repository and cluster credentials). Defaults to the source stack's credentialsScheduleName output, else <source clusterName>-credentials.",
    },
    restoreCredentials: {
        type: "boolean",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill: restore the sealing keys and Argo CD's credentials from the source's credentials Schedule before Argo CD syncs. false for a source that has no such backups yet (a protect stack from before 2026-12). Defaults to true.",
    },
    sourceReplica: {
        type: "boolean",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill: read the backups from the vault's off-site replica instead of the vault, when the vault's region is down (README, \"When the vault's region is down\"). Its bucket, region and KMS key come from the source stack's replica outputs unless set. The cluster's own backups (recover) still go to the vault. Defaults to false.",
    },
    sourceReplicaBucketName: {
        type: "string",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill with sourceReplica: the replica bucket. Defaults to the source stack's replicaBucketName output; required without sourceStack (the break-glass card has it).",
    },
    sourceReplicaRegion: {
        type: "string",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill with sourceReplica: AWS region of the replica bucket. Defaults to the source stack's replicaRegion output; required without sourceStack.",
    },
    sourceReplicaKmsKeyArn: {
        type: "string",
        group: "source",
        modes: RESTORING,
        description:
            "recover, drill with sourceReplica: ARN of the replica's KMS key (in the replica's region). Defaults to the source stack's replicaKmsKeyArn output; required without sourceStack.",
    },
    // --- credentials ---
    credentialsMode: {
        type: "string",
        group: "credentials",
        default: "irsa",
        description:
            "How Velero gets AWS credentials: irsa (IAM role for service accounts), podIdentity (EKS Pod Identity) or staticKeys (an access key pair, set as secrets).",
    },
    oidcProviderArn: {
        type: "string",
        group: "credentials",
        description:
            "irsa: ARN of the cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>). Required with irsa.",
    },
    eksClusterName: {
        type: "string",
        group: "credentials",
        description: "podIdentity: name of the EKS cluster the association is made in. Defaults to clusterName.",
    },
    clusterRegion: {
        type: "string",
        group: "credentials",
        description:
            "podIdentity: AWS region of the EKS cluster, where the Pod Identity association is made. Required with podIdentity (it may differ from the vault's region).",
    },
    awsAccessKeyId: {
        type: "string",
        group: "credentials",
        secret: true,
        description:
            "staticKeys: access key id of the IAM user Velero runs as. Secret; required with staticKeys unless createAccessKey.",
    },
    awsSecretAccessKey: {
        type: "string",
        group: "credentials",
        secret: true,
        description:
            "staticKeys: secret access key of the IAM user Velero runs as. Secret; required with staticKeys unless createAccessKey.",
    },
    createAccessKey: {
        type: "boolean",
        group: "credentials",
        default: false,
        description:
            "staticKeys: the stack creates the IAM user Velero runs as (<clusterName>-velero), attaches Velero's policies and makes its access key, kept as Pulumi secrets; for clusters outside AWS (k3s) with no key to make by hand. Replace the key to rotate it.",
    },
    // --- velero ---
    repoPassword: {
        type: "string",
        group: "velero",
        secret: true,
        required: true,
        description:
            "Password of Velero's kopia repository (the velero-repo-credentials Secret). The same in every stack that reads these backups; keep a copy outside the cluster and outside AWS. Secret, at least 16 characters.",
    },
    veleroNamespace: {
        type: "string",
        group: "velero",
        default: DEFAULT_NAMES.veleroNamespace,
        description: "Namespace Velero is installed in.",
    },
    veleroReleaseName: {
        type: "string",
        group: "velero",
        default: DEFAULT_NAMES.veleroRelease,
        description:
            'Helm release name of Velero (at most 53). The chart names its objects from it: <release>-server when the name contains "velero", else <release>-velero-server.',
    },
    volumeDataMode: {
        type: "string",
        group: "velero",
        default: "dataMover",
        description:
            "How volume data is backed up: dataMover (CSI snapshots copied by kopia into the locked bucket; any zone or region) or nativeSnapshots (EBS snapshots: zonal, regional, not under Object Lock).",
    },
    awsPluginVersion: {
        type: "string",
        group: "velero",
        default: VELERO_AWS_PLUGIN.tag,
        description:
            "Tag of the velero-plugin-for-aws image. Must be on the v1.14 line, the one that pairs with Velero 1.18.",
    },
    volumeSnapshotClassDrivers: {
        type: "array",
        group: "velero",
        default: [],
        description:
            'dataMover: CSI drivers (e.g. ["ebs.csi.aws.com"]) to create a VolumeSnapshotClass for, labelled velero.io/csi-volumesnapshot-class so Velero picks it for that driver\'s volumes (no other class of that driver may carry the label: Velero takes the first it lists). Unset: Velero resolves the driver\'s default or only class (docs/design.md, "Volume data"). Needs the snapshot CRDs.',
    },
    fileSystemBackupVolumeTypes: {
        type: "array",
        group: "velero",
        default: ["local", "nfs"],
        description:
            'Volume types (Velero\'s names, e.g. local, nfs, csi) backed up by file-system backup: kopia through the node agent, read from the pod that mounts the claim, for volumes that cannot be snapshotted (k3s local-path creates local volumes). The node agent runs and backups include pods while the list is non-empty; [] turns it off. hostPath volumes cannot be backed up at all (README, "Homelab (k3s) storage").',
    },
    storageClassesWithoutData: {
        type: "array",
        group: "velero",
        modes: ["protect"],
        description:
            "protect: StorageClasses whose volumes you accept get no data in the backups. pulumi up refuses a cluster with a class whose volumes neither a CSI snapshot (a VolumeSnapshotClass of its driver) nor file-system backup (fileSystemBackupVolumeTypes) can take, e.g. a local-path class creating hostPath volumes, unless it is listed here; `<no class>` names static PVs of no class (an empty storageClassName), and a class name no StorageClass object has (e.g. manual) names its PVs. Defaults to none.",
    },
    veleroPlugins: {
        type: "array",
        group: "velero",
        default: [],
        description:
            "Images of Velero plugins besides the AWS one (e.g. velero/velero-plugin-for-gcp:v1.14.0 for a second object store), each pinned by a tag or digest, from imageRegistry when that is set; they run after the AWS plugin.",
    },
    dataMoverNodeLabels: {
        type: "array",
        group: "velero",
        default: [],
        description:
            'dataMover: node labels ("key=value") that data-mover pods must run on (node-agent loadAffinity). Restored volumes are created in the zone of the node that moves their data, so e.g. ["topology.kubernetes.io/zone=eu-west-1a"] keeps every restored volume in one zone.',
    },
    dataMoverConcurrency: {
        type: "integer",
        group: "velero",
        default: 2,
        description:
            'Data-path loads (DataUploads, DataDownloads, and the PodVolumeBackups and PodVolumeRestores of file-system backup) each node runs at once: node-agent loadConcurrency.globalConfig. Velero\'s own default is 1, so a restore of 300 claims on 3 nodes is 100 rounds one after the other. 2 fits a 2-CPU/4-GiB node; raise it for larger nodes with dataMoverNodeConcurrency. README "Recovery time".',
    },
    dataMoverNodeConcurrency: {
        type: "array",
        group: "velero",
        default: [],
        description:
            'Loads per node for the nodes a label selector matches, as "key=value[,key=value]:N" (node-agent loadConcurrency.perNodeConfig), e.g. ["node.kubernetes.io/instance-type=m6i.2xlarge:8"]. A node several entries match takes the smallest N; other nodes take dataMoverConcurrency.',
    },
    consistentBackups: {
        type: "boolean",
        group: "velero",
        default: true,
        description:
            "Include pods in the backups, so that Velero runs the backup hooks apps declare (pre.hook.backup.velero.io/* annotations, e.g. a database flush or freeze) around each volume's snapshot. Restores take pods back only as inert vessels for file-system backup data (Argo CD runs the workloads). false: PVs, PVCs and Secrets only, crash-consistent, unless fileSystemBackupVolumeTypes needs the pods.",
    },
    veleroValues: {
        type: "object",
        group: "velero",
        description:
            "Values of your own for the velero chart (a YAML map: resources, tolerations, nodeSelector, podAnnotations...), deep-merged over gitops-dr's. Refused, each naming what to set instead: schedules, locations, credentials, the volume-data settings, the node agent's configuration, plugins and images, CRD handling, the release's names, the alerts.",
    },
    excludedNamespaces: {
        type: "array",
        group: "velero",
        default: [],
        description:
            "Namespaces whose PVCs and Secrets are not backed up, on top of kube-system, kube-public, kube-node-lease, Velero's and Argo CD's own.",
    },
    // --- schedules ---
    backupSchedule: {
        type: "string",
        group: "schedules",
        modes: BACKING_UP,
        description:
            'Cron expression of the daily backup, as Velero parses it (robfig/cron ParseStandard: 5 fields, descriptors, @every, CRON_TZ=). Defaults to "0 2 * * *" (UTC). Unset in a drill.',
    },
    backupParallelFiles: {
        type: "integer",
        group: "schedules",
        default: 8,
        description: "Files kopia reads at once per backed-up volume (Schedule uploaderConfig.parallelFilesUpload).",
    },
    backupTtl: {
        type: "string",
        group: "schedules",
        modes: BACKING_UP,
        description:
            "How long Velero keeps each daily backup, as a Go duration (e.g. 720h, 1h30m). At most lockDays. Defaults to 720h. Unset in a drill.",
    },
    weeklyBackupTtl: {
        type: "string",
        group: "schedules",
        modes: BACKING_UP,
        description:
            "Enables a weekly tier (grandfather-father-son retention) kept this long, e.g. 744h. Unset disables it. At most lockDays.",
    },
    weeklyBackupSchedule: {
        type: "string",
        group: "schedules",
        modes: BACKING_UP,
        description:
            'Cron expression of the weekly tier. Defaults to "0 3 * * 0" (Sundays 03:00 UTC) when weeklyBackupTtl is set.',
    },
    monthlyBackupTtl: {
        type: "string",
        group: "schedules",
        modes: BACKING_UP,
        description: "Enables a monthly tier kept this long, e.g. 744h. Unset disables it. At most lockDays.",
    },
    monthlyBackupSchedule: {
        type: "string",
        group: "schedules",
        modes: BACKING_UP,
        description:
            'Cron expression of the monthly tier. Defaults to "0 4 1 * *" (the 1st, 04:00 UTC) when monthlyBackupTtl is set.',
    },
    // --- argocd ---
    gitRepoUrl: {
        type: "string",
        group: "argocd",
        required: true,
        description:
            "Git repository Argo CD syncs the cluster's apps from (https:// or ssh git URL). Its root Application (app of apps) is created once Velero restored the persistent data.",
    },
    gitPath: {
        type: "string",
        group: "argocd",
        default: "apps",
        description: "Path in gitRepoUrl of the root Application's manifests (the child Applications).",
    },
    gitRevision: {
        type: "string",
        group: "argocd",
        default: "HEAD",
        description: "Branch, tag or commit of gitRepoUrl to sync.",
    },
    gitUsername: {
        type: "string",
        group: "argocd",
        description: "Private https repository: user name for gitPassword.",
    },
    gitPassword: {
        type: "string",
        group: "argocd",
        secret: true,
        description: "Private https repository: password or token. Secret; needs gitUsername.",
    },
    gitSshPrivateKey: {
        type: "string",
        group: "argocd",
        secret: true,
        description: "Private ssh repository: the deploy key. Secret.",
    },
    argoCdNamespace: {
        type: "string",
        group: "argocd",
        default: DEFAULT_NAMES.argoCdNamespace,
        description: "Namespace Argo CD is installed in (excluded from backups).",
    },
    newAppVolumes: {
        type: "array",
        group: "argocd",
        modes: ["protect"],
        description:
            "protect only: names of Applications allowed to create their first PersistentVolumeClaims and Secrets from git (a first install). Switch off once they exist. Refused in recover and drill.",
    },
    argoCdValues: {
        type: "object",
        group: "argocd",
        description:
            'Values of your own for the argo-cd chart (a YAML map: SSO, ingress, resources, tolerations...), deep-merged over gitops-dr\'s. Refused, each naming what to set instead: resource.exclusions and inclusions, the tracking method, crds, namespaceOverride, images (use imageRegistry). Credentials in it must be set with --secret. Dex runs only when it sets dex.enabled or configs.cm["dex.config"].',
    },
    // --- restore ---
    ...RESTORE_KEYS,
    prometheusOperator: {
        type: "boolean",
        group: "monitoring",
        default: false,
        description:
            "The Prometheus operator runs in the cluster: create a ServiceMonitor, a PodMonitor and a PrometheusRule with Velero's alerts.",
    },
    monitoringLabels: {
        type: "array",
        group: "monitoring",
        default: [],
        description:
            'Extra labels ("key=value") on the ServiceMonitor, PodMonitor and PrometheusRule, e.g. ["release=kube-prometheus-stack"] for Prometheus\'s selectors.',
    },
    // --- audit ---
    ...AUDIT_KEYS,
    // --- mirrors ---
    veleroChart: {
        type: "string",
        group: "mirrors",
        default: "",
        description: `Where the velero chart ${VELERO_CHART.version} is installed from. Empty: its public repository. oci://<host>[/<path>]: an OCI registry it was pushed to (helm push ${VELERO_CHART.name}-${VELERO_CHART.version}.tgz oci://<host>[/<path>]). https://...: a Helm repository mirroring it. A path ending in .tgz: the archive helm pull wrote, on the machine that runs Pulumi, checked to be velero ${VELERO_CHART.version}. docs/mirrors.md.`,
    },
    argoCdChart: {
        type: "string",
        group: "mirrors",
        default: "",
        description: `Where the argo-cd chart ${ARGO_CD_CHART.version} is installed from: empty (its public repository), oci://<host>[/<path>], https://... or a path to ${ARGO_CD_CHART.name}-${ARGO_CD_CHART.version}.tgz, as for veleroChart.`,
    },
    imageRegistry: {
        type: "string",
        group: "mirrors",
        default: "",
        description: `Private registry every image is pulled from, as <host>[:<port>][/<path>] (no scheme, no trailing slash). Each image becomes <imageRegistry>/<its path without the public host>, with its pinned tag: ${VELERO_IMAGE.repository}:${VELERO_IMAGE.tag} -> <imageRegistry>/velero/velero:${VELERO_IMAGE.tag}. Empty: every image from its public registry. docs/mirrors.md lists the images.`,
    },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** Whether `Pulumi.yaml` declares the key (see the module comment for why only these). */
export function isDeclared(spec: ConfigKeySpec): boolean {
    return spec.default !== undefined || spec.required === true;
}

/** The `config:` block of `Pulumi.yaml`, as the catalogue says it must be. */
export function projectDeclarations(): Record<string, Record<string, unknown>> {
    const result: Record<string, Record<string, unknown>> = {};
    for (const [key, s] of Object.entries(CONFIG_KEYS) as [string, ConfigKeySpec][]) {
        if (isDeclared(s)) {
            result[key] = {
                type: s.type,
                ...(s.type === "array" ? { items: { type: "string" } } : {}),
                description: s.description,
                ...(s.default !== undefined ? { default: s.default } : {}),
                ...(s.secret === true ? { secret: true } : {}),
            };
        }
    }
    return result;
}

/** Defaults that depend on the mode or on other keys (the ones Pulumi.yaml cannot declare). */
export const DERIVED_DEFAULTS = {
    backupSchedule: "0 2 * * *",
    backupTtl: "720h",
    weeklyBackupSchedule: "0 3 * * 0",
    monthlyBackupSchedule: "0 4 1 * *",
    backupCheckTimeoutMinutes: 20,
    restoreTimeoutMinutes: 300,
    drillVerifyTimeoutMinutes: 30,
} as const;
