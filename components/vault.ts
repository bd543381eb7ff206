/**
 * The backup vault: the S3 bucket Velero writes to, hardened so that no credential, no `pulumi destroy` and no
 * drill can lose or weaken a backup, and optionally replicated to another region.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { LockMode, StorageTransition } from "./config";
import { bucketPolicy, replicationPolicy, s3ServiceTrust, vaultKeyPolicy } from "./iam";
import { vaultKeyAlias } from "./names";
import { VaultGrant, bucketGrantStatements, keyGrantStatements } from "./vault-access";

export interface BackupVaultArgs {
    /** Name of the bucket to create. */
    bucketName: string;
    /** AWS region of the bucket. */
    region: string;
    /** ARN of an existing KMS key to encrypt with. Defaults to a new customer-managed key with rotation on. */
    kmsKeyArn?: string;
    /** Default Object Lock retention mode applied to every new object version. */
    lockMode: LockMode;
    /** Default Object Lock retention in days. */
    lockDays: number;
    /** Days after a version becomes noncurrent before lifecycle removes it. Must be at least `lockDays`. */
    noncurrentVersionExpirationDays: number;
    /** Days after which unfinished multipart uploads are aborted. */
    abortIncompleteMultipartUploadDays: number;
    /** Transitions of current objects to cheaper storage classes. Defaults to none. */
    transitions?: readonly StorageTransition[];
    /** An off-site replica in another region. Defaults to none. */
    replica?: { region: string; bucketName: string };
    /**
     * The only principals that may disable the keys the vault creates, schedule their deletion or change their key
     * policy (components/iam.ts `vaultKeyPolicy`). Required when the vault creates a key.
     */
    breakGlassPrincipalArns: readonly string[];
    /**
     * The vault is in an account of its own (the provider's) and these roles of other accounts use it: the bucket
     * and key policies grant them what their identity policies ask for (components/vault-access.ts). Defaults to
     * none: the vault's account is the cluster's, and identity policies are enough.
     */
    crossAccount?: { accountId: string; partition: string; grants: pulumi.Input<readonly VaultGrant[]> };
}

/** A bucket created with its hardening, as the vault and its replica both are. */
interface HardenedBucket {
    readonly bucket: aws.s3.Bucket;
    readonly key: aws.kms.Key | undefined;
    readonly kmsKeyArn: pulumi.Output<string>;
    readonly versioning: aws.s3.BucketVersioning;
}

/** The lifecycle rules that keep a versioned, locked vault from growing forever (DESIGN §3). */
export function lifecycleRules(
    args: Pick<
        BackupVaultArgs,
        "noncurrentVersionExpirationDays" | "abortIncompleteMultipartUploadDays" | "transitions"
    >,
): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
    const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
        {
            // Velero and kopia delete without a version id: on a versioned bucket that only adds a delete marker,
            // and the data stays as a noncurrent version. Remove it once its lock has surely ended, then remove
            // the marker that no longer hides anything.
            id: "expire-deleted-backups",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
            expiration: { expiredObjectDeleteMarker: true },
        },
        {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: args.abortIncompleteMultipartUploadDays },
        },
    ];
    if ((args.transitions ?? []).length > 0) {
        rules.push({
            id: "storage-transitions",
            status: "Enabled",
            filter: {},
            transitions: (args.transitions ?? []).map((t) => ({ days: t.days, storageClass: t.storageClass })),
        });
    }
    return rules;
}

/**
 * What makes a bucket reachable only through its policy: no public access of any kind, and no ACLs (the bucket
 * owns every object, so no writer's ACL can open one).
 */
export function closeToOthers(
    name: string,
    bucket: aws.s3.Bucket,
    region: pulumi.Input<string>,
    opts: pulumi.CustomResourceOptions,
): void {
    new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
            bucket: bucket.id,
            region,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        },
        opts,
    );
    new aws.s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: bucket.id, region, rule: { objectOwnership: "BucketOwnerEnforced" } },
        opts,
    );
}
/**
 * An S3 bucket with Object Lock, versioning, SSE-KMS, no public access, ACLs off, lifecycle rules and a policy
 * denying plain HTTP and foreign keys. Every resource is `protect`ed and `retainOnDelete`: destroying the stack
 * leaves the vault and every backup in place.
 */
export class BackupVault extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    public readonly bucketArn: pulumi.Output<string>;
    public readonly region: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;
    /** Present when a replica was asked for. */
    public readonly replica?: {
        readonly bucketName: pulumi.Output<string>;
        readonly bucketArn: pulumi.Output<string>;
        readonly region: pulumi.Output<string>;
        readonly kmsKeyArn: pulumi.Output<string>;
        readonly roleArn: pulumi.Output<string>;
    };

    constructor(name: string, args: BackupVaultArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:vault:BackupVault", name, {}, opts);
        // Nothing in the vault may ever be deleted by Pulumi: `protect` makes destroy refuse, and
        // `retainOnDelete` keeps the cloud resource even when someone unprotects and destroys anyway.
        const keep: pulumi.CustomResourceOptions = { parent: this, protect: true, retainOnDelete: true };

        const account = aws.getCallerIdentityOutput({}, { parent: this });
        const primary = hardenedBucket(`${name}`, args.bucketName, args.region, args, keep, account, args.kmsKeyArn, {
            crossAccount: args.crossAccount,
        });
        this.bucketName = primary.bucket.bucket;
        this.bucketArn = primary.bucket.arn;
        this.region = pulumi.output(args.region);
        this.kmsKeyArn = primary.kmsKeyArn;

        if (args.replica !== undefined) {
            // A vault in its own account: the restorers outside it read the replica too, when the vault's region is
            // down (gitops-dr:sourceReplica); nobody outside writes to it (replication does), and the same explicit
            // deny of every change to it applies.
            const crossAccount = args.crossAccount;
            const replica = hardenedBucket(
                `${name}-replica`,
                args.replica.bucketName,
                args.replica.region,
                args,
                keep,
                account,
                undefined,
                {
                    crossAccount:
                        crossAccount === undefined
                            ? undefined
                            : {
                                  ...crossAccount,
                                  grants: pulumi
                                      .output(crossAccount.grants)
                                      .apply((grants) => grants.filter((g) => g.access === "restorer")),
                              },
                },
            );
            const role = new aws.iam.Role(
                `${name}-replication`,
                {
                    // A prefix, not the bucket's name: `<bucket>-replication` could pass IAM's 64 characters.
                    namePrefix: "gitops-dr-replication-",
                    description: `Replicates ${args.bucketName} to ${args.replica.bucketName}`,
                    assumeRolePolicy: pulumi
                        .all([primary.bucket.arn, account.accountId])
                        .apply(([bucketArn, accountId]) => JSON.stringify(s3ServiceTrust(bucketArn, accountId))),
                },
                keep,
            );
            const policy = new aws.iam.RolePolicy(
                `${name}-replication`,
                {
                    role: role.id,
                    policy: pulumi
                        .all([primary.bucket.arn, primary.kmsKeyArn, replica.bucket.arn, replica.kmsKeyArn])
                        .apply(([sourceBucketArn, sourceKmsKeyArn, replicaBucketArn, replicaKmsKeyArn]) =>
                            JSON.stringify(
                                replicationPolicy({
                                    sourceBucketArn,
                                    sourceKmsKeyArn,
                                    replicaBucketArn,
                                    replicaKmsKeyArn,
                                }),
                            ),
                        ),
                },
                keep,
            );
            new aws.s3.BucketReplicationConfig(
                `${name}-replication`,
                {
                    bucket: primary.bucket.id,
                    region: args.region,
                    role: role.arn,
                    rules: [
                        {
                            id: "off-site-copy",
                            status: "Enabled",
                            priority: 1,
                            filter: {},
                            // Delete markers replicate so the replica mirrors what Velero still lists and its lifecycle
                            // can free what Velero deleted. Deletes of a version id never replicate, and Object Lock on
                            // the replica keeps every version for its retention whatever happens at the source.
                            deleteMarkerReplication: { status: "Enabled" },
                            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
                            destination: {
                                bucket: replica.bucket.arn,
                                storageClass: "STANDARD",
                                encryptionConfiguration: { replicaKmsKeyId: replica.kmsKeyArn },
                            },
                        },
                    ],
                },
                { ...keep, dependsOn: [primary.versioning, replica.versioning, policy] },
            );
            this.replica = {
                bucketName: replica.bucket.bucket,
                bucketArn: replica.bucket.arn,
                region: pulumi.output(args.replica.region),
                kmsKeyArn: replica.kmsKeyArn,
                roleArn: role.arn,
            };
        }

        this.registerOutputs({
            bucketName: this.bucketName,
            bucketArn: this.bucketArn,
            region: this.region,
            kmsKeyArn: this.kmsKeyArn,
            replica: this.replica,
        });
    }
}

function hardenedBucket(
    name: string,
    bucketName: string,
    region: string,
    args: BackupVaultArgs,
    keep: pulumi.CustomResourceOptions,
    account: pulumi.Output<aws.GetCallerIdentityResult>,
    kmsKeyArn?: string,
    // Roles of other accounts that use this bucket: the vault's writer and restorers, the replica's restorers.
    access: Pick<BackupVaultArgs, "crossAccount"> = {},
): HardenedBucket {
    const key =
        kmsKeyArn === undefined
            ? new aws.kms.Key(
                  `${name}-key`,
                  {
                      description: `Encrypts Velero backups in s3://${bucketName}`,
                      region,
                      enableKeyRotation: true,
                      // Without a policy the account's default lets any administrator disable or delete the key.
                      // The lockout safety check stays on (bypassPolicyLockoutSafetyCheck unset): see vaultKeyPolicy.
                      policy: pulumi.all([account, access.crossAccount?.grants ?? []]).apply(([a, grants]) => {
                          const policy = vaultKeyPolicy({
                              accountId: a.accountId,
                              partition: a.arn.split(":")[1] ?? "aws",
                              region,
                              breakGlassPrincipalArns: args.breakGlassPrincipalArns,
                          });
                          // A vault in its own account: the roles of other accounts that use it (vault-access.ts).
                          const granted = keyGrantStatements(region, a.accountId, a.arn.split(":")[1] ?? "aws", grants);
                          return JSON.stringify({ ...policy, Statement: [...policy.Statement, ...granted] });
                      }),
                      // The longest window AWS allows: a scheduled deletion of the key is the one way to make every
                      // backup unreadable, so leave the most time to notice and cancel it.
                      deletionWindowInDays: 30,
                  },
                  keep,
              )
            : undefined;
    const keyArn = key === undefined ? pulumi.output(kmsKeyArn!) : key.arn;
    if (key !== undefined) {
        // A name to find the key by when nothing else is left (README "Where the state lives"); policies and config
        // still name the key by ARN, since IAM cannot grant on an alias.
        new aws.kms.Alias(
            `${name}-key-alias`,
            { name: vaultKeyAlias(bucketName), targetKeyId: key.keyId, region },
            keep,
        );
    }

    // Object Lock can only be switched on when the bucket is created (DESIGN §6).
    const bucket = new aws.s3.Bucket(
        `${name}-bucket`,
        {
            bucket: bucketName,
            region,
            objectLockEnabled: true,
            forceDestroy: false,
        },
        keep,
    );
    const versioning = new aws.s3.BucketVersioning(
        `${name}-versioning`,
        {
            bucket: bucket.id,
            region,
            versioningConfiguration: { status: "Enabled" },
        },
        keep,
    );
    new aws.s3.BucketObjectLockConfiguration(
        `${name}-lock`,
        {
            bucket: bucket.id,
            region,
            objectLockEnabled: "Enabled",
            rule: { defaultRetention: { mode: args.lockMode, days: args.lockDays } },
        },
        { ...keep, dependsOn: [versioning] },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        {
            bucket: bucket.id,
            region,
            rules: [
                {
                    applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn },
                    // One data key per bucket instead of one KMS request per object: kopia writes many small objects.
                    bucketKeyEnabled: true,
                    // A PutObject with a customer-provided key (SSE-C) makes the current version unreadable to anyone
                    // without that key; S3 refuses such uploads (the bucket policy denies them too).
                    blockedEncryptionTypes: ["SSE-C"],
                },
            ],
        },
        keep,
    );
    closeToOthers(name, bucket, region, keep);
    new aws.s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
            bucket: bucket.id,
            region,
            rules: lifecycleRules(args),
        },
        { ...keep, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
        `${name}-policy`,
        {
            bucket: bucket.id,
            region,
            policy: pulumi
                .all([bucket.arn, keyArn, access.crossAccount?.grants ?? []])
                .apply(([bucketArn, arn, grants]) => {
                    const policy = bucketPolicy(bucketArn, arn);
                    if (access.crossAccount === undefined) {
                        return JSON.stringify(policy);
                    }
                    const granted = bucketGrantStatements(bucketArn, arn, access.crossAccount.accountId, grants);
                    return JSON.stringify({ ...policy, Statement: [...policy.Statement, ...granted] });
                }),
        },
        keep,
    );
    return { bucket, key, kmsKeyArn: keyArn, versioning };
}
