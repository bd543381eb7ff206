/**
 * IAM, bucket and trust policies as plain objects. No invokes and no Outputs: components resolve their inputs
 * and serialize these with `JSON.stringify`, and tests call the builders directly to pin the exact actions and
 * resources of every mode.
 */

export interface Statement {
    readonly Sid: string;
    readonly Effect: "Allow" | "Deny";
    readonly Principal?: string | Readonly<Record<string, string | readonly string[]>>;
    readonly Action: string | readonly string[];
    readonly Resource?: string | readonly string[];
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly Statement[];
}

const doc = (...statements: Statement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });

/** `arn:aws:s3:::bucket` → the ARN of every object under `prefix/`. */
const objectsUnder = (bucketArn: string, prefix: string) => `${bucketArn}/${prefix}/*`;

/** The region part of a KMS key ARN (`arn:aws:kms:<region>:...`). */
export function regionOfArn(arn: string): string {
    return arn.split(":")[3] ?? "";
}

/**
 * KMS use through S3 only: the key can encrypt and decrypt backup objects but cannot be used directly, so a
 * leaked role cannot decrypt data it exfiltrated some other way.
 */
function kmsViaS3(kmsKeyArn: string, actions: readonly string[]): Statement {
    return {
        Sid: "UseVaultKeyThroughS3",
        Effect: "Allow",
        Action: actions,
        Resource: kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `s3.${regionOfArn(kmsKeyArn)}.amazonaws.com` } },
    };
}

export interface VaultAccess {
    readonly bucketArn: string;
    readonly kmsKeyArn: string;
    /** The cluster prefix the role works under. */
    readonly prefix: string;
}

/**
 * What Velero needs to take backups under its own prefix: the object actions of the velero-plugin-for-aws
 * README's documented minimum, scoped to the prefix, plus the KMS actions SSE-KMS needs. kopia (the data mover)
 * uses the same object actions under `<prefix>/kopia/`.
 *
 * `s3:ListBucket` has no `s3:prefix` condition on purpose: kopia reads `<prefix>/kopia/<ns>/.storageconfig` when
 * it opens a repository and treats anything but 404 as fatal (kopia `repo/blob/s3/s3_storage.go`), and S3 only
 * answers 404 for a missing key to a caller that holds `s3:ListBucket` on the bucket; a prefix-conditioned grant
 * is not evaluated for a GetObject and would turn that 404 into a 403. The cost: key names (never contents) of
 * other clusters' prefixes can be listed.
 */
export function writerPolicy(access: VaultAccess): PolicyDocument {
    return doc(
        {
            Sid: "ListVault",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: access.bucketArn,
        },
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
            Resource: objectsUnder(access.bucketArn, access.prefix),
        },
        kmsViaS3(access.kmsKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"]),
    );
}

/**
 * The blobs of a kopia repository whose names are fixed, not derived from their content: written when the
 * repository is created and rewritten in place later, so an overwrite replaces a version whose Object Lock has
 * long expired and lifecycle then removes the original. kopia v0.22.3 (the upstream release nearest to the fork
 * Velero v1.18.1 pins in go.mod, `github.com/project-velero/kopia v0.0.0-20251230033609-d946b1e75197`):
 * - `kopia.repository`: the password-wrapped format key (`repo/format/format_blob.go` `KopiaRepositoryBlobID`);
 *   rewritten by format changes and upgrades, which first copy it to `kopia.repository.backup.<owner>`
 *   (`repo/format/upgrade_lock.go` `BackupBlobIDPrefix`);
 * - `kopia.blobcfg`: the retention kopia applies (`repo/format/blobcfg_blob.go` `KopiaBlobCfgBlobID`);
 * - `kopia.maintenance`: the maintenance schedule, rewritten after every maintenance run
 *   (`repo/maintenance/maintenance_schedule.go` `maintenanceScheduleBlobID`);
 * - `.storageconfig`: the S3 storage's configuration (`repo/blob/s3/s3_storage_config.go` `ConfigName`);
 * - `.shards`: the sharding parameters of sharded storages (`repo/blob/sharded/sharded_parameters.go`); S3 is not
 *   sharded, but the name is fixed all the same.
 * As IAM resource patterns under a repository directory: `kopia.*` covers the first four.
 */
export const KOPIA_FIXED_BLOB_PATTERNS = ["kopia.*", ".storageconfig", ".shards"] as const;

/**
 * The blobs a kopia write session adds, each named from its content or a random session id, never fixed (kopia
 * v0.22.3): `q<hash>` packs of manifest contents (`repo/content/content_manager.go` `PackBlobIDPrefixSpecial`;
 * manifest contents carry the `m` prefix, so their packs are `q`), `xn<epoch>_<hash>` index blobs
 * (`internal/epoch/epoch_manager.go` `UncompactedEpochBlobPrefix`, written by `WriteIndex`) and the
 * `s<session>` marker a session writes before its first pack (`repo/content/sessions.go`). That is all the
 * manifest compaction that opening a repository performs writes (`repo/manifest/committed_manifest_manager.go`
 * `maybeCompactLocked`, skipped only for a read-only connection, which Velero 1.18 never asks for:
 * `pkg/repository/udmrepo/kopialib/lib_repo.go` `openKopiaRepo`). Data packs (`p`) and epoch markers (`xe`,
 * written only by maintenance's `MaybeAdvanceWriteEpoch`) are not among them.
 */
export const KOPIA_SESSION_BLOB_PATTERNS = ["q*", "xn*", "s*"] as const;

/**
 * What a recover or drill cluster needs to restore from another cluster's prefix, and nothing that can delete,
 * overwrite or unlock a backup. Request by request (tests prove each with an IAM evaluator):
 * - read everything under the prefix;
 * - write and delete only under `<prefix>/restores/`: Velero uploads a restore's logs and results there even
 *   from a ReadOnly location (velero `pkg/controller/restore_controller.go`, `runValidatedRestore`), and deleting
 *   a Restore deletes them before its finalizer goes (`deleteExternalResources` -> `persistence/object_store.go`
 *   `DeleteRestore`; it requeues for ever otherwise, so `pulumi destroy` and a new drill id would hang). On the
 *   versioned, locked vault a delete without a version id only adds a delete marker;
 * - add the blobs a kopia write session adds (`KOPIA_SESSION_BLOB_PATTERNS`) in a repository directory
 *   `<prefix>/kopia/<namespace>/`: opening a repository whose manifests number 16 or more compacts them, and
 *   Velero 1.18 never opens kopia read-only. Never a fixed-name blob (`KOPIA_FIXED_BLOB_PATTERNS`), denied
 *   explicitly so that no other grant the role holds can reopen it, and never a data pack. No delete there, no
 *   retention or legal-hold change, no governance bypass, no version-id delete anywhere.
 */
export function restorerPolicy(access: VaultAccess): PolicyDocument {
    const kopia = objectsUnder(access.bucketArn, `${access.prefix}/kopia`);
    return doc(
        {
            Sid: "ListVault",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: access.bucketArn,
        },
        {
            Sid: "ReadSourcePrefix",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: objectsUnder(access.bucketArn, access.prefix),
        },
        {
            Sid: "WriteAndCleanRestoreLogs",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            Resource: objectsUnder(access.bucketArn, `${access.prefix}/restores`),
        },
        {
            Sid: "AddKopiaSessionBlobs",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
            // `kopia/*` then `/q*`: IAM's `*` spans `/`, so this matches `kopia/<ns>/q...`; a fixed name's last
            // segment starts with none of these, and the Deny below holds whatever else matches.
            Resource: KOPIA_SESSION_BLOB_PATTERNS.map((p) => `${kopia}/${p}`),
        },
        {
            Sid: "DenyKopiaFixedBlobs",
            Effect: "Deny",
            Action: ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            // `kopia/*kopia.*`: at any depth, in the repository directory or above it.
            Resource: KOPIA_FIXED_BLOB_PATTERNS.map((p) => `${kopia}${p}`),
        },
        // GenerateDataKey: restore logs and kopia blobs are written under the bucket's default SSE-KMS encryption.
        kmsViaS3(access.kmsKeyArn, ["kms:Decrypt", "kms:GenerateDataKey"]),
    );
}

/**
 * EC2 actions for native EBS snapshots (velero-plugin-for-aws README), only with `volumeDataMode:
 * nativeSnapshots`. EC2's Describe actions support no resource-level scoping, hence `*`. A writer takes and
 * deletes snapshots; a restorer only reads them and creates volumes from them.
 */
export function ebsSnapshotPolicy(role: "writer" | "restorer"): PolicyDocument {
    const read = ["ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:CreateTags", "ec2:CreateVolume"];
    if (role === "restorer") {
        return doc({ Sid: "EbsSnapshots", Effect: "Allow", Action: read, Resource: "*" });
    }
    return doc(
        { Sid: "EbsSnapshots", Effect: "Allow", Action: [...read, "ec2:CreateSnapshot"], Resource: "*" },
        {
            // Only snapshots Velero took: Velero tags each with the backup's name (velero
            // pkg/backup/item_backupper.go passes velero.io/backup among the snapshot tags), so no other
            // snapshot in the account can be deleted with this role.
            Sid: "DeleteVeleroSnapshots",
            Effect: "Allow",
            Action: ["ec2:DeleteSnapshot"],
            Resource: "*",
            Condition: { Null: { "aws:ResourceTag/velero.io/backup": "false" } },
        },
    );
}

/** The statement every bucket of the program carries: no request over plain HTTP, whoever makes it. */
export function denyInsecureTransport(bucketArn: string): Statement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
/**
 * The vault's bucket policy: no plain HTTP, and no object written with any encryption but the vault's key, never
 * with a customer-provided key (SSE-C).
 * The encryption denies apply only when the request names an encryption (`Null: "false"`, the header is
 * present): kopia sends no SSE header (velero `pkg/repository/provider/unified_repo.go` passes no SSE options)
 * and neither does a multipart `UploadPart`, which S3 authorizes as `s3:PutObject`; the bucket's default
 * encryption applies the vault key to them. The `...IfExists` operators would do the opposite: a missing key
 * makes an IfExists condition true (IAM "Condition operators", "...IfExists"), which would deny every upload
 * without the header. tests/vault.test.ts evaluates both cases request by request.
 */
export function bucketPolicy(bucketArn: string, kmsKeyArn: string): PolicyDocument {
    return doc(
        denyInsecureTransport(bucketArn),
        {
            Sid: "DenyOtherEncryption",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${bucketArn}/*`,
            Condition: {
                StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
                Null: { "s3:x-amz-server-side-encryption": "false" },
            },
        },
        {
            // SSE-C: a version encrypted with a key S3 does not keep is unreadable to everyone else, Velero included.
            // The header's presence is the request (AWS "Requiring and restricting SSE-C", `Null: false`).
            Sid: "DenyCustomerProvidedKeys",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${bucketArn}/*`,
            Condition: { Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } },
        },
        {
            Sid: "DenyOtherKmsKeys",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${bucketArn}/*`,
            Condition: {
                ArnNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": kmsKeyArn },
                Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "false" },
            },
        },
    );
}

export interface ReplicationAccess {
    readonly sourceBucketArn: string;
    readonly sourceKmsKeyArn: string;
    readonly replicaBucketArn: string;
    readonly replicaKmsKeyArn: string;
}

/**
 * S3 replication's role (AWS "Setting up permissions for live replication" and "Replicating encrypted objects"):
 * read versions with their retention and legal hold from the source, replicate objects and delete markers into
 * the replica, decrypt with the source key and encrypt with the replica key.
 */
export function replicationPolicy(access: ReplicationAccess): PolicyDocument {
    return doc(
        {
            Sid: "ReadReplicationConfiguration",
            Effect: "Allow",
            Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            Resource: access.sourceBucketArn,
        },
        {
            Sid: "ReadSourceVersions",
            Effect: "Allow",
            Action: [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                "s3:GetObjectRetention",
                "s3:GetObjectLegalHold",
            ],
            Resource: `${access.sourceBucketArn}/*`,
        },
        {
            Sid: "WriteReplica",
            Effect: "Allow",
            Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            Resource: `${access.replicaBucketArn}/*`,
        },
        {
            Sid: "DecryptSource",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: access.sourceKmsKeyArn,
            Condition: {
                StringEquals: { "kms:ViaService": `s3.${regionOfArn(access.sourceKmsKeyArn)}.amazonaws.com` },
            },
        },
        {
            Sid: "EncryptReplica",
            Effect: "Allow",
            Action: ["kms:Encrypt", "kms:GenerateDataKey"],
            Resource: access.replicaKmsKeyArn,
            Condition: {
                StringEquals: { "kms:ViaService": `s3.${regionOfArn(access.replicaKmsKeyArn)}.amazonaws.com` },
            },
        },
    );
}

/**
 * Trust for S3 replication, only on behalf of the vault bucket in this account: without `aws:SourceArn` and
 * `aws:SourceAccount` any bucket's replication could use the role (IAM "The confused deputy problem").
 */
export function s3ServiceTrust(sourceBucketArn: string, accountId: string): PolicyDocument {
    return doc({
        Sid: "S3Replication",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": sourceBucketArn } },
    });
}

/**
 * IRSA trust: only the Velero server service account of this cluster, through the cluster's OIDC provider
 * (EKS user guide, "Assign IAM roles to Kubernetes service accounts").
 */
export function irsaTrust(oidcProviderArn: string, namespace: string, serviceAccount: string): PolicyDocument {
    const issuer = oidcProviderArn.substring(oidcProviderArn.indexOf("oidc-provider/") + "oidc-provider/".length);
    return doc({
        Sid: "VeleroServiceAccount",
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
            StringEquals: {
                [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                [`${issuer}:aud`]: "sts.amazonaws.com",
            },
        },
    });
}

/**
 * EKS Pod Identity trust, limited to the Velero server service account of one cluster through the session tags the
 * Pod Identity agent sets (EKS user guide, "Create IAM role with trust policy required by EKS Pod Identity" and
 * "List of session tags added by EKS Pod Identity": `eks-cluster-arn`, `kubernetes-namespace`,
 * `kubernetes-service-account`). Without `eks-cluster-arn`, any cluster of the account with an association naming
 * the role, and a namespace and service account of the same names, would get Velero's credentials.
 */
export function podIdentityTrust(namespace: string, serviceAccount: string, clusterArn: string): PolicyDocument {
    return doc({
        Sid: "VeleroPodIdentity",
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: {
            StringEquals: {
                "aws:RequestTag/eks-cluster-arn": clusterArn,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": serviceAccount,
            },
        },
    });
}

/** The ARN of an EKS cluster (`arn:<partition>:eks:<region>:<account>:cluster/<name>`). */
export function eksClusterArn(partition: string, region: string, accountId: string, name: string): string {
    return `arn:${partition}:eks:${region}:${accountId}:cluster/${name}`;
}

/** Every action a policy allows, sorted; tests compare these sets per mode. */
export function allowedActions(policy: PolicyDocument): string[] {
    return [
        ...new Set(
            policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) =>
                typeof s.Action === "string" ? [s.Action] : [...s.Action],
            ),
        ),
    ].sort();
}

/** KMS actions that use a key's material; the vault keys allow them only through S3. */
export const KMS_CRYPTO_ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
] as const;

/**
 * KMS actions that make a key, and so every backup it encrypts, unusable or that would let someone rewrite the
 * policy that refuses them. Reserved to the break-glass principals.
 */
export const KMS_DESTRUCTIVE_ACTIONS = [
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "kms:DisableKeyRotation",
    // Not destructive to data, but the alias is how a person finds the key in a recovery (README "Where the state
    // lives"): repointing it to another key, or deleting it, needs the key's permission too (KMS "Controlling
    // access to aliases"), so the deny pins it.
    "kms:UpdateAlias",
    "kms:DeleteAlias",
] as const;

export interface VaultKeyAccess {
    /** The account the key lives in: its root delegates use to IAM policies. */
    readonly accountId: string;
    /** The partition of the account (`aws`, `aws-cn`, `aws-us-gov`). */
    readonly partition: string;
    /** The key's region: only S3 in that region may use it. */
    readonly region: string;
    /** Principals (IAM role or user ARNs) that alone may disable the key, schedule its deletion or change this policy. */
    readonly breakGlassPrincipalArns: readonly string[];
}

/**
 * The key policy of a vault key (the vault's or its replica's). Without one, the account's default key policy lets
 * any administrator whose IAM policy allows it disable the key or schedule its deletion, and every backup
 * encrypted with it becomes unreadable (AWS KMS "Default key policy").
 * - `EnableIamPolicies`: the account's IAM policies decide who may use the key, as for a default key: the Velero
 *   roles (components/iam.ts `kmsViaS3`) and the replication role hold exactly the grants they need;
 * - `BreakGlassAdministration`: the break-glass principals may do anything to the key;
 * - `DenyKeyDestructionButBreakGlass`: `kms:DisableKey`, `kms:ScheduleKeyDeletion`, `kms:DisableKeyRotation` and
 *   `kms:PutKeyPolicy` refused to every principal but those, whatever its IAM policies say (an explicit Deny
 *   in a key policy wins over any Allow). Denying `kms:PutKeyPolicy` is what keeps an administrator from first
 *   removing this statement. AWS's key policy lockout safety check refuses a new key policy (at CreateKey and
 *   PutKeyPolicy) unless it lets the calling principal call PutKeyPolicy again (KMS API reference, PutKeyPolicy
 *   `BypassPolicyLockoutSafetyCheck`); gitops-dr never bypasses it, so the principal that runs `pulumi up` for the
 *   stack creating the vault must be one of the break-glass principals, and AWS refuses the key otherwise rather
 *   than leave it unmanageable;
 * - `DenyUseOutsideS3`: the key's material is used only by S3 in its region (`kms:ViaService`), for every
 *   principal, so a leaked credential cannot decrypt objects it copied out some other way.
 */
export function vaultKeyPolicy(access: VaultKeyAccess): PolicyDocument {
    const root = `arn:${access.partition}:iam::${access.accountId}:root`;
    return doc(
        {
            Sid: "EnableIamPolicies",
            Effect: "Allow",
            Principal: { AWS: root },
            Action: "kms:*",
            Resource: "*",
        },
        {
            Sid: "BreakGlassAdministration",
            Effect: "Allow",
            Principal: { AWS: [...access.breakGlassPrincipalArns] },
            Action: "kms:*",
            Resource: "*",
        },
        {
            Sid: "DenyKeyDestructionButBreakGlass",
            Effect: "Deny",
            Principal: "*",
            Action: [...KMS_DESTRUCTIVE_ACTIONS],
            Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": [...access.breakGlassPrincipalArns] } },
        },
        {
            Sid: "DenyUseOutsideS3",
            Effect: "Deny",
            Principal: "*",
            Action: [...KMS_CRYPTO_ACTIONS],
            Resource: "*",
            Condition: { StringNotEquals: { "kms:ViaService": `s3.${access.region}.amazonaws.com` } },
        },
    );
}
