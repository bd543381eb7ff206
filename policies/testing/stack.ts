/**
 * Synthetic stacks for the pack's tests: what a compliant gitops-dr stack registers in each mode, written
 * from the program's contract (DESIGN, the restore-order contract: Schedule, Restore and Application custom
 * resources, the backup-check Job, the Argo CD release) rather than from today's program, so each policy is
 * tested against every branch even where the program does not yet register the resources. Tests take a
 * compliant stack, change one thing and assert the one violation it causes.
 */
import type { Policies, Policy } from "@pulumi/policy";

import { AnalyzedResource, PackConfig, Violation, evaluatePack } from "../gate/evaluate";
import type { RecordedRun } from "../gate/recording";
import type { Mode } from "../lib/view";

/** A resource under construction: everything an analyzer sees, mutable. */
export interface FixtureResource {
    type: string;
    name: string;
    urn: string;
    props: Record<string, unknown>;
    /** What the provider returned, which stack policies judge. Defaults to `props`. */
    outputs?: Record<string, unknown>;
    opts: { protect: boolean; retainOnDelete?: boolean; parent?: string };
    parent?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
}

export interface AddOptions {
    readonly protect?: boolean;
    readonly retainOnDelete?: boolean;
    readonly dependsOn?: readonly string[];
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/** A stack of fixture resources, changed copy by copy. */
export class FixtureStack {
    constructor(
        readonly stack: string,
        readonly resources: readonly FixtureResource[] = [],
    ) {}

    urnOf(type: string, name: string): string {
        return `urn:pulumi:${this.stack}::gitops-dr::${type}::${name}`;
    }

    /** Adds a resource; returns the new stack and the resource's URN through `urn`. */
    add(type: string, name: string, props: Record<string, unknown>, options: AddOptions = {}): FixtureStack {
        const urn = this.urnOf(type, name);
        const resource: FixtureResource = {
            type,
            name,
            urn,
            props: structuredClone(props),
            opts: {
                protect: options.protect ?? false,
                ...(options.retainOnDelete === undefined ? {} : { retainOnDelete: options.retainOnDelete }),
            },
            dependencies: [...(options.dependsOn ?? [])],
            propertyDependencies: Object.fromEntries(
                Object.entries(options.propertyDependencies ?? {}).map(([k, v]) => [k, [...v]]),
            ),
        };
        return new FixtureStack(this.stack, [...this.resources, resource]);
    }

    /** The one resource named `name`. */
    get(name: string): FixtureResource {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) {
            throw new Error(`expected one fixture resource named ${name}, found ${found.length}`);
        }
        return found[0];
    }

    /** A copy in which `change` has modified the resource named `name`. */
    with(name: string, change: (r: FixtureResource) => void): FixtureStack {
        const copy = structuredClone(this.resources) as FixtureResource[];
        const target = copy.filter((r) => r.name === name);
        if (target.length !== 1) {
            throw new Error(`expected one fixture resource named ${name}, found ${target.length}`);
        }
        change(target[0]);
        return new FixtureStack(this.stack, copy);
    }

    /** A copy without the resources named. */
    without(...names: string[]): FixtureStack {
        for (const name of names) {
            this.get(name);
        }
        return new FixtureStack(
            this.stack,
            this.resources.filter((r) => !names.includes(r.name)),
        );
    }

    /** The stack as the offline engine would have recorded it: registrations, and the stack resource's props as outputs. */
    recorded(): RecordedRun {
        return {
            resources: this.resources.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                inputs: r.props,
                secretPaths: [],
                dependencies: r.dependencies,
                propertyDependencies: r.propertyDependencies,
                protect: r.opts.protect,
                retainOnDelete: r.opts.retainOnDelete ?? false,
                deleteBeforeReplace: false,
                ignoreChanges: [],
            })),
            outputs: this.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.props ?? {},
        };
    }

    /** The analyzer's view of the stack. */
    analyzed(): AnalyzedResource[] {
        return this.resources.map((r) => ({
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: r.props,
            ...(r.outputs === undefined ? {} : { outputs: r.outputs }),
            opts: {
                ...r.opts,
                ignoreChanges: [],
                aliases: [],
                additionalSecretOutputs: [],
                customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            },
            dependencies: r.dependencies,
            propertyDependencies: r.propertyDependencies,
        }));
    }
}

/** Runs some policies over a fixture stack and returns the violations. */
export async function violationsOf(
    stack: FixtureStack,
    policies: Policies | Policy,
    config: PackConfig = {},
): Promise<readonly Violation[]> {
    const list = (Array.isArray(policies) ? policies : [policies]) as Policies;
    return (await evaluatePack(stack.analyzed(), list, config)).violations;
}

/** Names of the fixture's resources, so tests refer to them without repeating strings. */
export const N = {
    key: "vault-key",
    bucket: "vault-bucket",
    versioning: "vault-versioning",
    lock: "vault-lock",
    encryption: "vault-encryption",
    publicAccess: "vault-public-access",
    lifecycle: "vault-lifecycle",
    bucketPolicy: "vault-policy",
    replication: "vault-replication",
    replicaBucket: "vault-replica-bucket",
    replicaLock: "vault-replica-lock",
    writerPolicy: "velero-iam-writer",
    restorerPolicy: "velero-iam-restorer",
    role: "velero-iam-role",
    namespace: "velero-namespace",
    repoSecret: "velero-repo-credentials",
    velero: "velero-release",
    schedule: "velero-schedule-daily",
    credentialsSchedule: "velero-schedule-credentials",
    check: "restore-backup-check",
    restore: "restore",
    argocd: "argocd-release",
    rootApp: "argocd-root-app",
} as const;

export const BUCKET = "acme-gitops-dr-vault";
export const REPLICA = "acme-gitops-dr-vault-replica";
export const KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/vault-key";
export const REPO_PASSWORD = "fixture-repo-password-0123456789";

const T = {
    bucket: "aws:s3/bucket:Bucket",
    key: "aws:kms/key:Key",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    policy: "aws:iam/policy:Policy",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    namespace: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    release: "kubernetes:helm.sh/v3:Release",
    schedule: "kubernetes:velero.io/v1:Schedule",
    job: "kubernetes:batch/v1:Job",
    restore: "kubernetes:velero.io/v1:Restore",
    application: "kubernetes:argoproj.io/v1alpha1:Application",
    applicationSet: "kubernetes:argoproj.io/v1alpha1:ApplicationSet",
    stack: "pulumi:pulumi:Stack",
} as const;

export { T as FIXTURE_TYPES };

const keep = { protect: true, retainOnDelete: true } as const;

/** A bucket with every setting the vault rules ask for. */
function hardenedBucket(stack: FixtureStack, prefix: string, bucket: string, lockDays: number): FixtureStack {
    const bucketName = `${prefix}-bucket`;
    const bucketUrn = stack.urnOf(T.bucket, bucketName);
    const onBucket = { propertyDependencies: { bucket: [bucketUrn] } };
    const arn = `arn:aws:s3:::${bucket}`;
    return stack
        .add(T.bucket, bucketName, { bucket, objectLockEnabled: true, forceDestroy: false }, keep)
        .add(
            T.versioning,
            `${prefix}-versioning`,
            { bucket, versioningConfiguration: { status: "Enabled" } },
            { ...keep, ...onBucket },
        )
        .add(
            T.lock,
            `${prefix}-lock`,
            {
                bucket,
                objectLockEnabled: "Enabled",
                rule: { defaultRetention: { mode: "COMPLIANCE", days: lockDays } },
            },
            { ...keep, ...onBucket },
        )
        .add(
            T.encryption,
            `${prefix}-encryption`,
            {
                bucket,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN },
                        bucketKeyEnabled: true,
                        blockedEncryptionTypes: ["SSE-C"],
                    },
                ],
            },
            { ...keep, ...onBucket },
        )
        .add(
            T.publicAccess,
            `${prefix}-public-access`,
            {
                bucket,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            { ...keep, ...onBucket },
        )
        .add(
            T.lifecycle,
            `${prefix}-lifecycle`,
            {
                bucket,
                rules: [
                    {
                        id: "expire-deleted-backups",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: lockDays },
                        expiration: { expiredObjectDeleteMarker: true },
                    },
                    {
                        id: "abort-incomplete-uploads",
                        status: "Enabled",
                        filter: {},
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            { ...keep, ...onBucket },
        )
        .add(
            T.bucketPolicy,
            `${prefix}-policy`,
            {
                bucket,
                policy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:*",
                            Resource: [arn, `${arn}/*`],
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                        {
                            Sid: "DenyCustomerProvidedKeys",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:PutObject",
                            Resource: `${arn}/*`,
                            Condition: { Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } },
                        },
                        {
                            Sid: "DenyOtherKmsKeys",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:PutObject",
                            Resource: `${arn}/*`,
                            // Null guard: a write without the header (kopia, multipart parts) is let through.
                            Condition: {
                                ArnNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN },
                                Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "false" },
                            },
                        },
                    ],
                }),
            },
            { ...keep, ...onBucket },
        );
}

/** The vault key's policy, as components/iam.ts vaultKeyPolicy writes it. */
export const KEY_POLICY = {
    Version: "2012-10-17",
    Statement: [
        {
            Sid: "EnableIamPolicies",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111122223333:root" },
            Action: "kms:*",
            Resource: "*",
        },
        {
            Sid: "BreakGlassAdministration",
            Effect: "Allow",
            Principal: { AWS: ["arn:aws:iam::111122223333:role/vault-break-glass"] },
            Action: "kms:*",
            Resource: "*",
        },
        {
            Sid: "DenyKeyDestructionButBreakGlass",
            Effect: "Deny",
            Principal: "*",
            Action: ["kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKeyRotation"],
            Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": ["arn:aws:iam::111122223333:role/vault-break-glass"] } },
        },
    ],
};

/** A writer policy on a prefix, as components/iam.ts writes it. */
export function writerDocument(prefix: string): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ListVault", Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${BUCKET}` },
            {
                Sid: "ReadWriteOwnPrefix",
                Effect: "Allow",
                Action: [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                Resource: `arn:aws:s3:::${BUCKET}/${prefix}/*`,
            },
            {
                Sid: "UseVaultKeyThroughS3",
                Effect: "Allow",
                Action: ["kms:Decrypt", "kms:GenerateDataKey"],
                Resource: KEY_ARN,
                Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
            },
        ],
    };
}

/** A restorer policy on a source prefix, as components/iam.ts writes it. */
export function restorerDocument(prefix: string): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ListVault", Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${BUCKET}` },
            {
                Sid: "ReadSourcePrefix",
                Effect: "Allow",
                Action: ["s3:GetObject"],
                Resource: `arn:aws:s3:::${BUCKET}/${prefix}/*`,
            },
            {
                Sid: "WriteRestoreLogs",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                Resource: `arn:aws:s3:::${BUCKET}/${prefix}/restores/*`,
            },
            {
                Sid: "AddKopiaSessionBlobs",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                Resource: ["q*", "xn*", "s*"].map((p) => `arn:aws:s3:::${BUCKET}/${prefix}/kopia/*/${p}`),
            },
            {
                Sid: "DenyKopiaFixedBlobs",
                Effect: "Deny",
                Action: ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                Resource: ["kopia.*", ".storageconfig", ".shards"].map(
                    (p) => `arn:aws:s3:::${BUCKET}/${prefix}/kopia/*${p}`,
                ),
            },
        ],
    };
}

const SOURCE_PREFIX = "prod-eu-1";

/** The argo-cd chart's default exclusions plus what Velero restores, as the program sets them. */
export const EXCLUSIONS_YAML = `- apiGroups: ["", discovery.k8s.io]
  kinds: [Endpoints, EndpointSlice]
- apiGroups: [coordination.k8s.io]
  kinds: [Lease]
- apiGroups: [authentication.k8s.io, authorization.k8s.io]
  kinds: [SelfSubjectReview, TokenReview, LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview]
- apiGroups: [certificates.k8s.io]
  kinds: [CertificateSigningRequest]
- apiGroups: [cert-manager.io]
  kinds: [CertificateRequest]
- apiGroups: [cilium.io]
  kinds: [CiliumIdentity, CiliumEndpoint, CiliumEndpointSlice]
- apiGroups: [kyverno.io, reports.kyverno.io, wgpolicyk8s.io]
  kinds: [PolicyReport, ClusterPolicyReport, EphemeralReport, ClusterEphemeralReport, AdmissionReport, ClusterAdmissionReport, BackgroundScanReport, ClusterBackgroundScanReport, UpdateRequest]
- apiGroups: [""]
  kinds: [PersistentVolume, PersistentVolumeClaim, Secret]
- apiGroups: [velero.io]
  kinds: ["*"]
`;

/** A schedule template as gitops-dr writes it. */
export function scheduleTemplate(): Record<string, unknown> {
    return {
        ttl: "720h",
        storageLocation: "default",
        includedResources: ["persistentvolumes", "persistentvolumeclaims", "secrets"],
        includeClusterResources: true,
        excludedNamespaces: ["kube-system", "kube-public", "kube-node-lease", "velero", "argocd", "gdr-verify-*"],
        snapshotVolumes: true,
        snapshotMoveData: true,
        defaultVolumesToFsBackup: false,
    };
}

function location(
    name: string,
    prefix: string,
    accessMode: "ReadWrite" | "ReadOnly",
    isDefault: boolean,
): Record<string, unknown> {
    return {
        name,
        provider: "aws",
        bucket: BUCKET,
        prefix,
        default: isDefault,
        accessMode,
        config: { region: "eu-west-1", kmsKeyId: KEY_ARN },
    };
}

/** The Velero release's values per mode (the velero chart 12.1.0 keys gitops-dr sets). */
function veleroValues(mode: Mode, clusterPrefix: string): Record<string, unknown> {
    const locations =
        mode === "protect"
            ? [location("default", clusterPrefix, "ReadWrite", true)]
            : mode === "recover"
              ? [
                    location("default", clusterPrefix, "ReadWrite", true),
                    location("source", SOURCE_PREFIX, "ReadOnly", false),
                ]
              : [location("source", SOURCE_PREFIX, "ReadOnly", true)];
    return {
        image: { repository: "docker.io/velero/velero", tag: "v1.18.1" },
        initContainers: [
            {
                name: "velero-plugin-for-aws",
                image: "docker.io/velero/velero-plugin-for-aws:v1.14.2",
                volumeMounts: [{ mountPath: "/target", name: "plugins" }],
            },
        ],
        configuration: {
            backupStorageLocation: locations,
            volumeSnapshotLocation: [],
            features: "EnableCSI",
            defaultSnapshotMoveData: true,
            uploaderType: "kopia",
        },
        deployNodeAgent: true,
        snapshotsEnabled: false,
        credentials: { useSecret: false },
        schedules: {},
        metrics: {
            enabled: true,
            prometheusRule: {
                enabled: mode !== "drill",
                autodetect: false,
                spec:
                    mode === "drill"
                        ? []
                        : [{ alert: "VeleroBackupFailed", expr: "increase(velero_backup_failure_total[1h]) > 0" }],
            },
        },
    };
}

/** A compliant stack of `mode`, named `<mode>` with clusters prod-eu-1 (protect), prod-eu-2 (recover), drill-eu-1. */
export function compliantStack(mode: Mode): FixtureStack {
    const clusterName = mode === "protect" ? "prod-eu-1" : mode === "recover" ? "prod-eu-2" : "drill-eu-1";
    let s = new FixtureStack(mode).add(T.stack, `gitops-dr-${mode}`, { mode, clusterName, bucketName: BUCKET });

    if (mode === "protect") {
        s = s.add(
            T.key,
            N.key,
            {
                description: "vault key",
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: JSON.stringify(KEY_POLICY),
            },
            keep,
        );
        s = hardenedBucket(s, "vault", BUCKET, 31);
        s = hardenedBucket(s, "vault-replica", REPLICA, 31);
        s = s.add(T.role, "vault-replication-role", { assumeRolePolicy: "{}" }, keep).add(
            T.replication,
            N.replication,
            {
                bucket: BUCKET,
                rules: [{ id: "off-site-copy", status: "Enabled", destination: { bucket: `arn:aws:s3:::${REPLICA}` } }],
            },
            {
                ...keep,
                propertyDependencies: {
                    bucket: [s.urnOf(T.bucket, N.bucket)],
                    rules: [s.urnOf(T.bucket, N.replicaBucket)],
                },
            },
        );
    }

    // IAM: the writer on the cluster's own prefix, the restorer on the source prefix, attached to one role.
    const policies: string[] = [];
    if (mode !== "drill") {
        s = s.add(T.policy, N.writerPolicy, {
            description: "writer",
            policy: JSON.stringify(writerDocument(clusterName)),
        });
        policies.push(N.writerPolicy);
    }
    if (mode !== "protect") {
        s = s.add(T.policy, N.restorerPolicy, {
            description: "restorer",
            policy: JSON.stringify(restorerDocument(SOURCE_PREFIX)),
        });
        policies.push(N.restorerPolicy);
    }
    s = s.add(T.role, N.role, { assumeRolePolicy: "{}" });
    policies.forEach((policy, i) => {
        s = s.add(
            T.attachment,
            `velero-iam-attach-${i}`,
            { role: N.role, policyArn: `arn:aws:iam::111122223333:policy/${policy}` },
            {
                propertyDependencies: { role: [s.urnOf(T.role, N.role)], policyArn: [s.urnOf(T.policy, policy)] },
            },
        );
    });

    // Velero.
    const namespaceUrn = s.urnOf(T.namespace, N.namespace);
    s = s.add(T.namespace, N.namespace, { metadata: { name: "velero" } }).add(
        T.secret,
        N.repoSecret,
        {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "velero-repo-credentials", namespace: "velero" },
            type: "Opaque",
            stringData: { "repository-password": REPO_PASSWORD },
        },
        { propertyDependencies: { metadata: [namespaceUrn] } },
    );
    const veleroUrn = s.urnOf(T.release, N.velero);
    s = s.add(
        T.release,
        N.velero,
        {
            name: "velero",
            namespace: "velero",
            chart: "velero",
            version: "12.1.0",
            repositoryOpts: { repo: "https://vmware-tanzu.github.io/helm-charts" },
            values: veleroValues(mode, clusterName),
        },
        {
            dependsOn: [namespaceUrn, s.urnOf(T.secret, N.repoSecret)],
            propertyDependencies: { namespace: [namespaceUrn] },
        },
    );

    // The restore order (recover, drill): the backup-check Job, the Restore awaited to Completed.
    const restoreUrn = s.urnOf(T.restore, N.restore);
    if (mode !== "protect") {
        s = s
            .add(
                T.job,
                N.check,
                {
                    apiVersion: "batch/v1",
                    kind: "Job",
                    metadata: { name: "gitops-dr-backup-check", namespace: "velero" },
                    spec: {
                        template: {
                            spec: {
                                restartPolicy: "Never",
                                containers: [{ name: "check", image: "docker.io/bitnami/kubectl:1.34.1" }],
                            },
                        },
                    },
                },
                { dependsOn: [veleroUrn] },
            )
            .add(
                T.restore,
                N.restore,
                {
                    apiVersion: "velero.io/v1",
                    kind: "Restore",
                    metadata: {
                        name: `${clusterName}-restore-1`,
                        namespace: "velero",
                        annotations: { "pulumi.com/waitFor": "jsonpath={.status.phase}=Completed" },
                    },
                    spec: { scheduleName: `${SOURCE_PREFIX}-daily`, existingResourcePolicy: "none" },
                },
                { dependsOn: [s.urnOf(T.job, N.check)] },
            );
    }

    // The cluster's own schedule (protect, recover), after the Restore in a recovery.
    if (mode !== "drill") {
        s = s.add(
            T.schedule,
            N.schedule,
            {
                apiVersion: "velero.io/v1",
                kind: "Schedule",
                metadata: { name: `${clusterName}-daily`, namespace: "velero" },
                spec: { schedule: "0 2 * * *", useOwnerReferencesInBackup: false, template: scheduleTemplate() },
            },
            { dependsOn: [veleroUrn], propertyDependencies: mode === "recover" ? { metadata: [restoreUrn] } : {} },
        );
        // The credentials Schedule: Secrets only, every namespace, by label (components/velero/credentials.ts).
        s = s.add(
            T.schedule,
            N.credentialsSchedule,
            {
                apiVersion: "velero.io/v1",
                kind: "Schedule",
                metadata: {
                    name: `${clusterName}-credentials`,
                    namespace: "velero",
                    labels: { "gitops-dr.io/backup-kind": "credentials" },
                },
                spec: {
                    schedule: "0 2 * * *",
                    useOwnerReferencesInBackup: false,
                    template: {
                        ttl: "720h",
                        storageLocation: "default",
                        includedNamespaces: ["*"],
                        excludedNamespaces: ["gdr-verify-*"],
                        includedResources: ["secrets"],
                        includeClusterResources: false,
                        orLabelSelectors: [
                            {
                                matchExpressions: [
                                    { key: "sealedsecrets.bitnami.com/sealed-secrets-key", operator: "Exists" },
                                ],
                            },
                            {
                                matchExpressions: [
                                    {
                                        key: "argocd.argoproj.io/secret-type",
                                        operator: "In",
                                        values: ["repository", "repo-creds", "cluster"],
                                    },
                                ],
                            },
                        ],
                        snapshotVolumes: false,
                    },
                },
            },
            { dependsOn: [veleroUrn], propertyDependencies: mode === "recover" ? { metadata: [restoreUrn] } : {} },
        );
    }

    // Argo CD and its root Application (after the Restore in recover and drill).
    s = s.add(T.release, N.argocd, {
        name: "argocd",
        namespace: "argocd",
        chart: "argo-cd",
        version: "10.1.1",
        values: { configs: { cm: { "resource.exclusions": EXCLUSIONS_YAML } } },
    });
    s = s.add(
        T.application,
        N.rootApp,
        {
            apiVersion: "argoproj.io/v1alpha1",
            kind: "Application",
            metadata: {
                name: "root",
                namespace: "argocd",
                ...(mode === "protect"
                    ? {}
                    : { annotations: { "gitops-dr.io/after-restore": `${clusterName}-restore-1` } }),
            },
            spec: {
                project: "default",
                source: { repoURL: "https://git.example.com/apps.git", path: "apps", targetRevision: "main" },
                destination: { server: "https://kubernetes.default.svc" },
            },
        },
        {
            dependsOn: [s.urnOf(T.release, N.argocd)],
            propertyDependencies: mode === "protect" ? {} : { metadata: [restoreUrn] },
        },
    );
    return s;
}
