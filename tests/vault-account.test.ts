/**
 * The vault in an account of its own (`vaultAccountRoleArn`): which provider creates what, what the bucket and key
 * policies grant, and, evaluated request by request across the accounts with the IAM simulator on the policies the
 * program registered, that an administrator of the cluster's account cannot touch the vault while Velero can
 * still back up and a drill's role can still restore.
 */
import * as assert from "node:assert/strict";

import { ConfigError, RawConfig, parseConfigWithWarnings } from "../components/config";
import type { PolicyDocument } from "../components/iam";
import { VAULT_ADMIN_ACTIONS } from "../components/vault-access";
import { ProgramRun, runProgram } from "../engine";
import { evaluatePack } from "../policies/gate/evaluate";
import { analyzedResources } from "../policies/gate/recording";
import { POLICIES } from "../policies/policies";
import { isRoleGrant } from "../policies/rules/vault-bucket-policy-no-grants";
import { STACK_SECRETS, policyOf } from "./fixtures";
import { decideAcross } from "./iam-cross-account";

const VAULT_ACCOUNT = "444455556666";
const CLUSTER_ACCOUNT = "111122223333";
const ROLE = `arn:aws:iam::${VAULT_ACCOUNT}:role/gitops-dr-vault-admin`;
const DRILL_ROLE = "arn:aws:iam::777788889999:role/drill-eu-1-velero";
const VELERO = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/prod-eu-1-velero`;
const ADMIN = `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/AdministratorAccess/mallory`;
const ALL: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Sid: "Everything", Effect: "Allow", Action: "*", Resource: "*" }],
};
const BUCKET = "arn:aws:s3:::acme-gitops-dr-vault";
/** The admin actions that act on an object version rather than on the bucket. */
const OBJECT_ACTIONS = [
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
];
const VIA_S3 = { "kms:ViaService": "s3.eu-west-1.amazonaws.com" };

describe("vault account: resources", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { vaultAccountRoleArn: ROLE, vaultRestorerRoleArns: [DRILL_ROLE], breakGlassPrincipalArns: [ROLE] },
        });
    });

    it("creates the vault and its audit through a provider assuming the vault role; Velero's IAM stays", () => {
        const provider = run.one("pulumi:providers:aws", "gitops-dr-prod-aws-vault");
        assert.deepEqual(JSON.parse(String(provider.inputs.assumeRoles)), [
            { roleArn: ROLE, sessionName: "gitops-dr" },
        ]);
        const inVault = (ref: string | undefined) =>
            ref === provider.urn || ref?.startsWith(`${provider.urn}::`) === true;
        const vaultTypes = /^aws:(s3|kms|cloudtrail|sns|cloudwatch)\//;
        for (const r of run.resources.filter((r) => vaultTypes.test(r.type))) {
            assert.ok(inVault(r.provider), `${r.name} is created with ${r.provider}`);
        }
        const replication = run.one("aws:iam/role:Role", "gitops-dr-prod-vault-replication");
        assert.ok(inVault(replication.provider));
        for (const r of run.resources.filter((r) => r.name.startsWith("gitops-dr-prod-velero-iam"))) {
            assert.ok(!inVault(r.provider), `${r.name} is in the cluster's account`);
        }
        const key = run.one("aws:kms/key:Key", "gitops-dr-prod-vault-key");
        assert.equal(String(key.outputs.arn).split(":")[4], VAULT_ACCOUNT);
        const trust = policyOf(replication.inputs.assumeRolePolicy);
        assert.deepEqual(trust.Statement[0].Condition!.StringEquals, { "aws:SourceAccount": VAULT_ACCOUNT });
    });

    it("names the cluster's Velero role and the drill's role exactly in the bucket and key policies", () => {
        const role = run.one("aws:iam/role:Role", "gitops-dr-prod-velero-iam-role");
        assert.equal(role.outputs.arn, VELERO);
        const bucketPolicy = policyOf(
            run.one("aws:s3/bucketPolicy:BucketPolicy", "gitops-dr-prod-vault-policy").inputs.policy,
        );
        const keyPolicy = policyOf(run.one("aws:kms/key:Key", "gitops-dr-prod-vault-key").inputs.policy);
        for (const policy of [bucketPolicy, keyPolicy]) {
            const named = policy.Statement.filter(
                (s) => s.Effect === "Allow" && s.Condition?.ArnEquals !== undefined,
            ).map((s) => s.Condition!.ArnEquals["aws:PrincipalArn"]);
            assert.deepEqual([...new Set(named)], [VELERO, DRILL_ROLE]);
        }
        // The replica is read by the restorers only (gitops-dr:sourceReplica, tests/source-replica.test.ts): the
        // cluster's Velero never writes to it, replication does.
        const replica = policyOf(
            run.one("aws:s3/bucketPolicy:BucketPolicy", "gitops-dr-prod-vault-replica-policy").inputs.policy,
        );
        assert.deepEqual(
            [
                ...new Set(
                    replica.Statement.filter((s) => s.Effect === "Allow").map(
                        (s) => s.Condition!.ArnEquals["aws:PrincipalArn"],
                    ),
                ),
            ],
            [DRILL_ROLE],
        );
    });

    it("passes the policy pack without a mandatory violation", async () => {
        const evaluation = await evaluatePack(analyzedResources(run), POLICIES, {});
        assert.deepEqual(
            evaluation.violations
                .filter((v) => v.enforcementLevel === "mandatory")
                .map((v) => `${v.policyName}: ${v.message}`),
            [],
        );
    });

    it("logs the vault account's write management events too", () => {
        const trail = run.one("aws:cloudtrail/trail:Trail", "gitops-dr-prod-audit-trail");
        const names = (trail.inputs.advancedEventSelectors as { name: string }[]).map((s) => s.name);
        assert.equal(names.length, 2);
    });

    describe("the IAM simulator on the registered policies", () => {
        let bucketPolicy: PolicyDocument;
        let keyPolicy: PolicyDocument;
        let writer: PolicyDocument;
        let keyArn: string;
        before(() => {
            bucketPolicy = JSON.parse(
                String(run.one("aws:s3/bucketPolicy:BucketPolicy", "gitops-dr-prod-vault-policy").inputs.policy),
            ) as PolicyDocument;
            const key = run.one("aws:kms/key:Key", "gitops-dr-prod-vault-key");
            keyPolicy = JSON.parse(String(key.inputs.policy)) as PolicyDocument;
            keyArn = String(key.outputs.arn);
            writer = JSON.parse(
                String(run.one("aws:iam/policy:Policy", "gitops-dr-prod-velero-iam-writer").inputs.policy),
            ) as PolicyDocument;
        });
        const onBucket = (principalArn: string, identity: PolicyDocument, action: string, resource: string) =>
            decideAcross({
                principalArn,
                identity: [identity],
                action,
                resource,
                resourceAccount: VAULT_ACCOUNT,
                resourcePolicy: bucketPolicy,
            });
        const onKey = (principalArn: string, identity: PolicyDocument, action: string, context = {}) =>
            decideAcross({
                principalArn,
                identity: [identity],
                action,
                resource: keyArn,
                resourceAccount: VAULT_ACCOUNT,
                resourcePolicy: keyPolicy,
                context,
            });

        for (const action of VAULT_ADMIN_ACTIONS) {
            it(`an administrator of the cluster's account cannot ${action}`, async () => {
                const resource = OBJECT_ACTIONS.includes(action)
                    ? `${BUCKET}/prod-eu-1/backups/b/velero-backup.json`
                    : BUCKET;
                assert.notEqual(await onBucket(ADMIN, ALL, action, resource), "Allowed");
                // Not even as Velero's own role: none of these is granted to it.
                assert.notEqual(await onBucket(VELERO, ALL, action, resource), "Allowed");
            });
        }

        for (const action of [
            "kms:DisableKey",
            "kms:ScheduleKeyDeletion",
            "kms:PutKeyPolicy",
            "kms:DisableKeyRotation",
            "kms:CreateGrant",
            "kms:Decrypt",
        ]) {
            it(`an administrator of the cluster's account cannot ${action} the key`, async () => {
                assert.notEqual(await onKey(ADMIN, ALL, action, VIA_S3), "Allowed");
            });
        }

        it("an administrator of the cluster's account cannot read, write or delete a backup", async () => {
            for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) {
                assert.notEqual(
                    await onBucket(ADMIN, ALL, action, `${BUCKET}/prod-eu-1/backups/b/velero-backup.json`),
                    "Allowed",
                    action,
                );
            }
        });

        it("Velero still lists, reads, writes and deletes under its prefix, and uses the key through S3 only", async () => {
            const session = "arn:aws:sts::111122223333:assumed-role/prod-eu-1-velero/velero";
            assert.equal(await onBucket(session, writer, "s3:ListBucket", BUCKET), "Allowed");
            for (const action of [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ]) {
                assert.equal(
                    await onBucket(session, writer, action, `${BUCKET}/prod-eu-1/kopia/shop/p01`),
                    "Allowed",
                    action,
                );
                assert.notEqual(
                    await onBucket(session, writer, action, `${BUCKET}/prod-us-1/kopia/shop/p01`),
                    "Allowed",
                    action,
                );
            }
            for (const action of ["kms:Decrypt", "kms:GenerateDataKey"]) {
                assert.equal(await onKey(session, writer, action, VIA_S3), "Allowed", action);
                assert.notEqual(await onKey(session, writer, action), "Allowed", `${action} directly`);
            }
        });

        it("the drill's role from a third account restores read-only", async () => {
            const restorer = {
                Version: "2012-10-17" as const,
                Statement: bucketPolicy.Statement.filter((s) => s.Sid.startsWith("Restorer")).map(
                    ({ Sid, Effect, Action, Resource }) => ({ Sid, Effect, Action, Resource }),
                ),
            };
            assert.equal(
                await onBucket(
                    DRILL_ROLE,
                    restorer,
                    "s3:GetObject",
                    `${BUCKET}/prod-eu-1/backups/b/velero-backup.json`,
                ),
                "Allowed",
            );
            assert.equal(
                await onBucket(DRILL_ROLE, restorer, "s3:PutObject", `${BUCKET}/prod-eu-1/restores/r/log.gz`),
                "Allowed",
            );
            assert.notEqual(
                await onBucket(DRILL_ROLE, ALL, "s3:DeleteObject", `${BUCKET}/prod-eu-1/backups/b/velero-backup.json`),
                "Allowed",
            );
            assert.notEqual(
                await onBucket(DRILL_ROLE, ALL, "s3:PutObject", `${BUCKET}/prod-eu-1/backups/b/velero-backup.json`),
                "Allowed",
            );
        });

        it("the vault account's own administrator still manages the bucket (the checks above are not vacuous)", async () => {
            const admin = `arn:aws:iam::${VAULT_ACCOUNT}:role/admin`;
            assert.equal(await onBucket(admin, ALL, "s3:PutBucketPolicy", BUCKET), "Allowed");
            assert.equal(await onKey(admin, ALL, "kms:Decrypt", VIA_S3), "Allowed");
            assert.equal(await onKey(ROLE, ALL, "kms:DisableKey"), "Allowed");
        });
    });
});

describe("policy vault-bucket-policy-no-grants: a role grant of a vault in its own account", () => {
    const grant = {
        Sid: "Writer0ReadWriteOwnPrefix",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${CLUSTER_ACCOUNT}:root` },
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: `${BUCKET}/prod-eu-1/*`,
        Condition: { ArnEquals: { "aws:PrincipalArn": VELERO } },
    };
    const bucket = "acme-gitops-dr-vault";

    it("accepts object writes and deletes by key under one prefix for one named role", () => {
        assert.equal(isRoleGrant(grant, bucket), true);
    });

    it("refuses it for anyone, for a whole account, for the whole bucket, or with a version delete", () => {
        assert.equal(isRoleGrant({ ...grant, Principal: "*" }, bucket), false);
        assert.equal(isRoleGrant({ ...grant, Condition: {} }, bucket), false);
        assert.equal(isRoleGrant({ ...grant, Resource: `${BUCKET}/*` }, bucket), false);
        assert.equal(isRoleGrant({ ...grant, Resource: `${BUCKET}/prod-*/*` }, bucket), false);
        assert.equal(isRoleGrant({ ...grant, Action: [...grant.Action, "s3:DeleteObjectVersion"] }, bucket), false);
        assert.equal(isRoleGrant({ ...grant, Action: "s3:*" }, bucket), false);
        assert.equal(isRoleGrant({ ...grant, Action: "s3:PutBucketPolicy", Resource: BUCKET }, bucket), false);
    });
});

// --- Config rules ---------------------------------------------------------------------------------------------

const plain = (value: string) => ({ value, secret: false });
const PROTECT: RawConfig = {
    mode: plain("protect"),
    clusterName: plain("prod-eu-1"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    oidcProviderArn: plain(`arn:aws:iam::${CLUSTER_ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF`),
    repoPassword: { value: "kopia-repo-password-0123456789", secret: true },
    gitRepoUrl: plain("https://github.com/acme/platform-gitops.git"),
    vaultAccountRoleArn: plain(ROLE),
    breakGlassPrincipalArns: plain(`["${ROLE}"]`),
};

function problemOf(raw: RawConfig, key: string, stack = "prod"): string {
    try {
        parseConfigWithWarnings(raw, stack);
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        assert.deepEqual(
            e.problems.map((p) => p.key),
            [`gitops-dr:${key}`],
            e.problems.map((p) => p.message).join("\n"),
        );
        return e.problems[0].message;
    }
    throw new Error("expected a configuration error");
}

describe("vault account: config rules", () => {
    it("parses the role's account and partition", () => {
        const { config } = parseConfigWithWarnings(
            { ...PROTECT, vaultRestorerRoleArns: plain(`["${DRILL_ROLE}"]`) },
            "prod",
        );
        assert.deepEqual(config.vaultAccount, {
            roleArn: ROLE,
            accountId: VAULT_ACCOUNT,
            partition: "aws",
            restorerRoleArns: [DRILL_ROLE],
        });
    });

    it("refuses a value that is no role ARN", () => {
        assert.match(
            problemOf({ ...PROTECT, vaultAccountRoleArn: plain("gitops-dr-vault-admin") }, "vaultAccountRoleArn"),
            /"gitops-dr-vault-admin" is not an IAM role ARN\. Fix:/,
        );
    });

    it("refuses the cluster's own account", () => {
        const own = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/x`;
        assert.match(
            problemOf(
                { ...PROTECT, vaultAccountRoleArn: plain(own), breakGlassPrincipalArns: plain(`["${own}"]`) },
                "vaultAccountRoleArn",
            ),
            /is in 111122223333, the cluster's own account/,
        );
    });

    it("refuses static keys, whose user the policies cannot name", () => {
        const raw: RawConfig = {
            ...PROTECT,
            credentialsMode: plain("staticKeys"),
            oidcProviderArn: plain(""),
            awsAccessKeyId: { value: "AKIAEXAMPLE", secret: true },
            awsSecretAccessKey: { value: "secret", secret: true },
        };
        assert.match(problemOf(raw, "vaultAccountRoleArn"), /credentialsMode is staticKeys/);
    });

    it("refuses it in a stack that joins a vault", () => {
        const raw: RawConfig = {
            ...PROTECT,
            createBucket: plain("false"),
            kmsKeyArn: plain("arn:aws:kms:eu-west-1:444455556666:key/k"),
        };
        assert.match(problemOf(raw, "vaultAccountRoleArn"), /only the stack that creates the vault/);
    });

    it("refuses an existing key, whose policy it cannot write", () => {
        const raw: RawConfig = { ...PROTECT, kmsKeyArn: plain("arn:aws:kms:eu-west-1:444455556666:key/k") };
        assert.match(problemOf(raw, "kmsKeyArn"), /with vaultAccountRoleArn the vault creates its own key/);
    });

    it("refuses break-glass principals of another account, or a list without the role that creates the key", () => {
        const other = "arn:aws:iam::111122223333:role/break-glass";
        assert.match(
            problemOf({ ...PROTECT, breakGlassPrincipalArns: plain(`["${other}"]`) }, "breakGlassPrincipalArns"),
            /"arn:aws:iam::111122223333:role\/break-glass" is not in the vault's account 444455556666/,
        );
        const sameAccount = `arn:aws:iam::${VAULT_ACCOUNT}:role/break-glass`;
        assert.match(
            problemOf({ ...PROTECT, breakGlassPrincipalArns: plain(`["${sameAccount}"]`) }, "breakGlassPrincipalArns"),
            /does not list vaultAccountRoleArn .* KMS refuses a key policy that locks out its creator/,
        );
    });

    it("refuses restorer roles without a vault account, or in the vault's account", () => {
        const { vaultAccountRoleArn: _, ...sameAccount } = PROTECT;
        void _;
        assert.match(
            problemOf({ ...sameAccount, vaultRestorerRoleArns: plain(`["${DRILL_ROLE}"]`) }, "vaultRestorerRoleArns"),
            /vaultAccountRoleArn is not/,
        );
        assert.match(
            problemOf(
                { ...PROTECT, vaultRestorerRoleArns: plain(`["arn:aws:iam::${VAULT_ACCOUNT}:role/x"]`) },
                "vaultRestorerRoleArns",
            ),
            /is in the vault's own account/,
        );
        assert.match(
            problemOf({ ...PROTECT, vaultRestorerRoleArns: plain('["drill"]') }, "vaultRestorerRoleArns"),
            /is not an IAM role ARN in the aws partition/,
        );
    });
});
