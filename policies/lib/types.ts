/**
 * Type tokens the pack judges, as the engine reports them. `@pulumi/aws` 7 registers the S3 bucket settings
 * as their own resources (DESIGN §6); the V2 tokens of `@pulumi/aws` 6 are accepted too, so an older program
 * is judged rather than silently skipped. A Kubernetes custom resource registers as
 * `kubernetes:<group>/<version>:<Kind>`, whichever SDK class created it.
 */
export const T = {
    stack: "pulumi:pulumi:Stack",
    bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    objectLock: [
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
    ],
    versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
    encryption: [
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    ],
    publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
    bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
    lifecycle: [
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    ],
    replication: ["aws:s3/bucketReplicationConfig:BucketReplicationConfig"],
    kmsKey: ["aws:kms/key:Key"],
    trail: ["aws:cloudtrail/trail:Trail"],
    iamPolicy: "aws:iam/policy:Policy",
    iamRole: "aws:iam/role:Role",
    iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    secret: "kubernetes:core/v1:Secret",
    job: "kubernetes:batch/v1:Job",
    schedule: "kubernetes:velero.io/v1:Schedule",
    restore: "kubernetes:velero.io/v1:Restore",
    backupStorageLocation: "kubernetes:velero.io/v1:BackupStorageLocation",
    volumeSnapshotLocation: "kubernetes:velero.io/v1:VolumeSnapshotLocation",
    application: "kubernetes:argoproj.io/v1alpha1:Application",
    applicationSet: "kubernetes:argoproj.io/v1alpha1:ApplicationSet",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
} as const;

/** Whether `type` is the token, or one of the tokens. */
export function isType(type: string, token: string | readonly string[]): boolean {
    return typeof token === "string" ? type === token : token.includes(type);
}
