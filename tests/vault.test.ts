import * as assert from "node:assert/strict";

import { allowedActions, bucketPolicy, restorerPolicy, writerPolicy } from "../components/iam";
import { lifecycleRules } from "../components/vault";
import { ProgramRun, runProgram } from "./engine";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS, policyOf } from "./fixtures";

const VAULT_TYPES = [
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
];

describe("BackupVault", () => {
    let prod: ProgramRun;
    before(async () => {
        prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
    });
    const vaultResource = (type: string, suffix: string) => prod.one(type, `gitops-dr-prod-vault${suffix}`);

    it("creates the bucket with Object Lock on, at creation, and never force-destroys it", () => {
        const bucket = vaultResource("aws:s3/bucket:Bucket", "-bucket");
        assert.equal(bucket.inputs.bucket, "acme-gitops-dr-vault");
        assert.equal(bucket.inputs.objectLockEnabled, true);
        assert.equal(bucket.inputs.forceDestroy, false);
        assert.equal(bucket.inputs.region, "eu-west-1");
    });

    it("enables versioning and a default retention of the configured mode and days", () => {
        assert.deepEqual(vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-versioning").inputs.versioningConfiguration, { status: "Enabled" });
        const lock = vaultResource("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "-lock");
        assert.equal(lock.inputs.objectLockEnabled, "Enabled");
        assert.deepEqual(lock.inputs.rule, { defaultRetention: { mode: "COMPLIANCE", days: 31 } });
    });

    it("takes GOVERNANCE when configured", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { lockMode: "GOVERNANCE", lockDays: 45 } });
        const lock = run.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "gitops-dr-prod-vault-lock");
        assert.deepEqual(lock.inputs.rule, { defaultRetention: { mode: "GOVERNANCE", days: 45 } });
    });

    it("encrypts with a rotating customer-managed key and an S3 bucket key", () => {
        const key = vaultResource("aws:kms/key:Key", "-key");
        assert.equal(key.inputs.enableKeyRotation, true);
        assert.equal(key.inputs.deletionWindowInDays, 30);
        const sse = vaultResource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-encryption");
        assert.deepEqual(sse.inputs.rules, [
            {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-west-1:111122223333:key/gitops-dr-prod-vault-key-id" },
                bucketKeyEnabled: true,
            },
        ]);
        assert.deepEqual(sse.propertyDependencies.rules, [key.urn]);
    });

    it("uses a given key ARN instead of creating one", async () => {
        const kmsKeyArn = "arn:aws:kms:eu-west-1:111122223333:key/existing";
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { kmsKeyArn, replicaRegion: "" } });
        assert.equal(run.ofType("aws:kms/key:Key").length, 0);
        const sse = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
        assert.equal((sse.inputs.rules as { applyServerSideEncryptionByDefault: { kmsMasterKeyId: string } }[])[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, kmsKeyArn);
        assert.equal(run.outputs.kmsKeyArn, kmsKeyArn);
    });

    it("blocks every kind of public access and turns ACLs off", () => {
        const pab = vaultResource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-public-access");
        for (const setting of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
            assert.equal(pab.inputs[setting], true, setting);
        }
        assert.deepEqual(vaultResource("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "-ownership").inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
    });

    it("denies plain HTTP and uploads encrypted with anything but the vault key", () => {
        const policy = policyOf(vaultResource("aws:s3/bucketPolicy:BucketPolicy", "-policy").inputs.policy);
        assert.deepEqual(policy.Statement.map((s) => [s.Sid, s.Effect]), [
            ["DenyInsecureTransport", "Deny"],
            ["DenyOtherEncryption", "Deny"],
            ["DenyOtherKmsKeys", "Deny"],
        ]);
        assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
        assert.deepEqual(policy.Statement[1].Condition, { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } });
        assert.deepEqual(policy.Statement[2].Condition, {
            ArnNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:111122223333:key/gitops-dr-prod-vault-key-id" },
        });
    });

    it("expires noncurrent versions no sooner than the lock ends, removes expired markers, aborts uploads", () => {
        const lifecycle = vaultResource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-lifecycle");
        assert.deepEqual(lifecycle.inputs.rules, [
            { id: "expire-deleted-backups", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: 31 }, expiration: { expiredObjectDeleteMarker: true } },
            { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
        ]);
        assert.ok(lifecycle.dependencies.includes(vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-versioning").urn));
    });

    it("adds validated storage transitions as their own rule", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { storageTransitions: ["STANDARD_IA:30", "GLACIER_IR:90"] } });
        const lifecycle = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "gitops-dr-prod-vault-lifecycle");
        const rules = lifecycle.inputs.rules as { id: string; transitions?: unknown }[];
        assert.deepEqual(rules.find((r) => r.id === "storage-transitions")?.transitions, [
            { days: 30, storageClass: "STANDARD_IA" },
            { days: 90, storageClass: "GLACIER_IR" },
        ]);
        assert.equal(lifecycleRules({ noncurrentVersionExpirationDays: 40, abortIncompleteMultipartUploadDays: 3 }).length, 2);
    });

    it("replicates to a hardened bucket in another region, with its own key, delete markers included", () => {
        const replica = vaultResource("aws:s3/bucket:Bucket", "-replica-bucket");
        assert.equal(replica.inputs.bucket, "acme-gitops-dr-vault-replica");
        assert.equal(replica.inputs.region, "eu-central-1");
        assert.equal(replica.inputs.objectLockEnabled, true);
        const replicaKey = vaultResource("aws:kms/key:Key", "-replica-key");
        assert.equal(replicaKey.inputs.region, "eu-central-1");
        assert.equal(replicaKey.inputs.enableKeyRotation, true);
        for (const [type, suffix] of [
            ["aws:s3/bucketVersioning:BucketVersioning", "-replica-versioning"],
            ["aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "-replica-lock"],
            ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-replica-public-access"],
            ["aws:s3/bucketPolicy:BucketPolicy", "-replica-policy"],
            ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-replica-lifecycle"],
        ]) {
            assert.equal(vaultResource(type, suffix).inputs.region, "eu-central-1", suffix);
        }
        const replication = vaultResource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "-replication");
        const rule = (replication.inputs.rules as Record<string, unknown>[])[0];
        assert.deepEqual(rule.deleteMarkerReplication, { status: "Enabled" });
        assert.deepEqual(rule.sourceSelectionCriteria, { sseKmsEncryptedObjects: { status: "Enabled" } });
        assert.deepEqual(rule.destination, {
            bucket: "arn:aws:s3:::acme-gitops-dr-vault-replica",
            storageClass: "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: "arn:aws:kms:eu-central-1:111122223333:key/gitops-dr-prod-vault-replica-key-id" },
        });
        // Replication needs versioning on both sides before it can be configured.
        assert.ok(replication.dependencies.includes(vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-versioning").urn));
        assert.ok(replication.dependencies.includes(vaultResource("aws:s3/bucketVersioning:BucketVersioning", "-replica-versioning").urn));
        const role = policyOf(vaultResource("aws:iam/rolePolicy:RolePolicy", "-replication").inputs.policy);
        const actions = role.Statement.flatMap((s) => (typeof s.Action === "string" ? [s.Action] : s.Action));
        for (const action of ["s3:GetObjectRetention", "s3:GetObjectLegalHold", "s3:ReplicateObject", "s3:ReplicateDelete", "kms:Decrypt", "kms:Encrypt"]) {
            assert.ok(actions.includes(action), action);
        }
        assert.ok(!actions.some((a) => a.endsWith("*")));
    });

    it("protects and retains every vault resource, so destroying the stack leaves every backup", () => {
        const vault = prod.one("gitops-dr:vault:BackupVault");
        const children = prod.descendants(vault);
        assert.deepEqual([...new Set(children.map((r) => r.type))].sort(), [...VAULT_TYPES, "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"].sort());
        for (const r of children) {
            assert.equal(r.protect, true, `${r.name} protect`);
            assert.equal(r.retainOnDelete, true, `${r.name} retainOnDelete`);
        }
    });

    it("publishes the vault's location for recover and drill stacks", () => {
        assert.equal(prod.outputs.bucketName, "acme-gitops-dr-vault");
        assert.equal(prod.outputs.bucketArn, "arn:aws:s3:::acme-gitops-dr-vault");
        assert.equal(prod.outputs.region, "eu-west-1");
        assert.equal(prod.outputs.prefix, "prod-eu-1");
        assert.match(String(prod.outputs.kmsKeyArn), /^arn:aws:kms:eu-west-1:/);
        assert.deepEqual(Object.keys(prod.outputs.replica as object).sort(), ["bucketArn", "bucketName", "kmsKeyArn", "region", "roleArn"]);
    });

    it("a protect stack joining a shared vault creates no bucket and writes under its own prefix", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { createBucket: false, replicaRegion: "", clusterName: "prod-us-1", kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/shared" },
        });
        assert.equal(run.ofType("aws:s3/bucket:Bucket").length, 0);
        assert.equal(run.outputs.prefix, "prod-us-1");
        const writer = policyOf(run.one("aws:iam/policy:Policy").inputs.policy);
        assert.equal(writer.Statement.find((s) => s.Sid === "ReadWriteOwnPrefix")?.Resource, "arn:aws:s3:::acme-gitops-dr-vault/prod-us-1/*");
    });

    for (const mode of ["recover", "drill"] as const) {
        it(`${mode} registers no vault resource at all`, async () => {
            const run =
                mode === "drill"
                    ? await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES })
                    : await runProgram({ stack: "recover", config: RECOVER_CONFIG, secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
            for (const type of VAULT_TYPES) {
                assert.equal(run.ofType(type).length, 0, type);
            }
        });
    }
});

describe("IAM policies", () => {
    const access = { bucketArn: "arn:aws:s3:::vault", kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k", prefix: "prod-eu-1" };

    it("the writer holds exactly the plugin's documented actions, on its own prefix", () => {
        assert.deepEqual(allowedActions(writerPolicy(access)), [
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:ListMultipartUploadParts",
            "s3:PutObject",
        ]);
        const resources = writerPolicy(access).Statement.map((s) => [s.Sid, s.Resource]);
        assert.deepEqual(resources, [
            ["ListVault", "arn:aws:s3:::vault"],
            ["ReadWriteOwnPrefix", "arn:aws:s3:::vault/prod-eu-1/*"],
            ["UseVaultKeyThroughS3", access.kmsKeyArn],
        ]);
        assert.deepEqual(writerPolicy(access).Statement[2].Condition, { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
    });

    it("the restorer reads the source prefix, writes only restore logs, and deletes nothing", () => {
        const policy = restorerPolicy(access);
        assert.deepEqual(allowedActions(policy), ["kms:Decrypt", "kms:GenerateDataKey", "s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
        assert.deepEqual(policy.Statement.map((s) => [s.Sid, s.Action, s.Resource]), [
            ["ListVault", ["s3:ListBucket"], "arn:aws:s3:::vault"],
            ["ReadSourcePrefix", ["s3:GetObject"], "arn:aws:s3:::vault/prod-eu-1/*"],
            ["WriteRestoreLogs", ["s3:PutObject", "s3:AbortMultipartUpload"], "arn:aws:s3:::vault/prod-eu-1/restores/*"],
            ["UseVaultKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], access.kmsKeyArn],
        ]);
    });

    it("no policy allows a wildcard action", () => {
        for (const policy of [writerPolicy(access), restorerPolicy(access)]) {
            assert.ok(allowedActions(policy).every((a) => !a.includes("*")));
        }
        // The bucket policy's s3:* is a Deny, never an Allow.
        assert.ok(bucketPolicy(access.bucketArn, access.kmsKeyArn).Statement.every((s) => s.Effect === "Deny"));
    });

    const modes = {
        protect: () => runProgram({ stack: "prod", secrets: STACK_SECRETS }),
        recover: () => runProgram({ stack: "recover", config: RECOVER_CONFIG, secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES }),
        drill: () => runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES }),
    };
    const expected = {
        protect: [["gitops-dr-prod-velero-iam-writer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/*"]],
        recover: [
            ["gitops-dr-recover-velero-iam-writer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-2/*"],
            ["gitops-dr-recover-velero-iam-restorer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/*"],
        ],
        drill: [["gitops-dr-drill-velero-iam-restorer", "arn:aws:s3:::acme-gitops-dr-vault/prod-eu-1/*"]],
    };
    for (const mode of ["protect", "recover", "drill"] as const) {
        it(`${mode}: the registered policies and the prefixes they reach`, async () => {
            const run = await modes[mode]();
            const policies = run.ofType("aws:iam/policy:Policy");
            assert.deepEqual(
                policies.map((p) => [p.name, policyOf(p.inputs.policy).Statement.find((s) => s.Sid === "ReadWriteOwnPrefix" || s.Sid === "ReadSourcePrefix")?.Resource]),
                expected[mode],
            );
            if (mode !== "protect") {
                // Nothing this stack attaches to Velero can delete an object.
                for (const p of policies) {
                    const actions = policyOf(p.inputs.policy).Statement.flatMap((s) => (typeof s.Action === "string" ? [s.Action] : s.Action));
                    assert.equal(actions.includes("s3:DeleteObject"), p.name.endsWith("-writer") && mode === "recover", p.name);
                }
                const restorer = policies.find((p) => p.name.endsWith("-restorer"))!;
                const restorerActions = policyOf(restorer.inputs.policy).Statement.flatMap((s) => (typeof s.Action === "string" ? [s.Action] : s.Action));
                assert.ok(!restorerActions.some((a) => a.startsWith("s3:Delete")));
            }
        });
    }

    it("native snapshots add EC2 snapshot actions; a drill cannot delete snapshots", async () => {
        const prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { volumeDataMode: "nativeSnapshots" } });
        const writer = policyOf(prod.one("aws:iam/policy:Policy", "gitops-dr-prod-velero-iam-ebs-snapshots").inputs.policy);
        assert.deepEqual(writer.Statement[0].Action, ["ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:CreateTags", "ec2:CreateVolume", "ec2:CreateSnapshot", "ec2:DeleteSnapshot"]);
        const drill = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES, config: { volumeDataMode: "nativeSnapshots" } });
        const restorer = policyOf(drill.one("aws:iam/policy:Policy", "gitops-dr-drill-velero-iam-ebs-snapshots").inputs.policy);
        assert.ok(!(restorer.Statement[0].Action as string[]).includes("ec2:DeleteSnapshot"));
        assert.equal(drill.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 2);
        assert.equal((await runProgram({ stack: "prod", secrets: STACK_SECRETS })).ofType("aws:iam/policy:Policy").length, 1);
    });

    it("IRSA trusts only the Velero server service account through the cluster's OIDC provider", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        const role = run.one("aws:iam/role:Role", "gitops-dr-prod-velero-iam-role");
        const trust = policyOf(role.inputs.assumeRolePolicy);
        const issuer = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
        assert.deepEqual(trust.Statement[0].Condition, {
            StringEquals: { [`${issuer}:sub`]: "system:serviceaccount:velero:velero-server", [`${issuer}:aud`]: "sts.amazonaws.com" },
        });
        assert.equal(trust.Statement[0].Action, "sts:AssumeRoleWithWebIdentity");
        const attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.equal(attachment.inputs.policyArn, "arn:aws:iam::111122223333:policy/gitops-dr-prod-velero-iam-writer");
    });

    it("Pod Identity: a role trusted by pods.eks.amazonaws.com and an association for the server service account", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { credentialsMode: "podIdentity", oidcProviderArn: null } });
        const trust = policyOf(run.one("aws:iam/role:Role", "gitops-dr-prod-velero-iam-role").inputs.assumeRolePolicy);
        assert.deepEqual(trust.Statement[0].Action, ["sts:AssumeRole", "sts:TagSession"]);
        const association = run.one("aws:eks/podIdentityAssociation:PodIdentityAssociation");
        assert.equal(association.inputs.clusterName, "prod-eu-1");
        assert.equal(association.inputs.serviceAccount, "velero-server");
        assert.equal(association.inputs.namespace, "velero");
    });

    it("static keys: no role; the policy exists to attach to the key's user, and the keys stay secret", async () => {
        const run = await runProgram({
            stack: "prod",
            config: { credentialsMode: "staticKeys", oidcProviderArn: null },
            secrets: { ...STACK_SECRETS, awsAccessKeyId: "AKIAEXAMPLE", awsSecretAccessKey: "wJalrEXAMPLEKEY" },
        });
        assert.equal(run.ofType("aws:iam/role:Role").filter((r) => r.name.includes("velero")).length, 0);
        assert.equal(run.ofType("aws:iam/policy:Policy").length, 1);
        const secret = run.one("kubernetes:core/v1:Secret", "gitops-dr-prod-velero-cloud-credentials");
        assert.ok(secret.secretPaths.includes("stringData.cloud") || secret.secretPaths.includes("stringData"));
        assert.equal((secret.inputs.stringData as { cloud: string }).cloud, "[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=wJalrEXAMPLEKEY\n");
    });
});
