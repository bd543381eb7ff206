/**
 * Recovering from the vault's off-site replica (`gitops-dr:sourceReplica`), for when the vault's region is down:
 * the config rules, a drill and a recovery whose source location reads the replica bucket in the replica's region
 * with the replica's key, their restorer roles read-only there as the IAM simulator evaluates them, and, with the
 * vault in its own account, the replica's bucket and key policies that let a drill's role of a third account in.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";

import { ConfigError, ConfigProblem, RawConfig, SourceOutputs, parseConfigWithWarnings } from "../components/config";
import { PolicyDocument, bucketPolicy, vaultKeyPolicy } from "../components/iam";
import { ProgramError, ProgramRun, ROOT, RunOptions, runProgram } from "../engine";
import type { SimulatedBackup } from "../engine/cluster";
import { evaluatePack } from "../policies/gate/evaluate";
import { analyzedResources } from "../policies/gate/recording";
import { POLICIES } from "../policies/policies";
import { formatPlan } from "../scripts/plan/runbook";
import { planStack } from "../scripts/plan/stack";
import {
    PROD_OUTPUTS,
    RECOVER_CONFIG,
    STACK_REFERENCES,
    STACK_SECRETS,
    backupNamed,
    plain,
    policyOf,
    secret,
} from "./fixtures";
import { decideAcross } from "./iam-cross-account";
import { decide } from "./iam-eval";

const SOURCE_STACK = "acme/gitops-dr/prod";
const REPLICA_BUCKET = `arn:aws:s3:::${PROD_OUTPUTS.replicaBucketName}`;
const VAULT_BUCKET = `arn:aws:s3:::${PROD_OUTPUTS.bucketName}`;
const BACKUP = "prod-eu-1/backups/prod-eu-1-daily-20261124020000/velero-backup.json";

/** A drill reading prod through its stack, as Pulumi.drill.yaml does. */
const DRILL: RawConfig = {
    mode: plain("drill"),
    clusterName: plain("drill-eu-1"),
    kubeContext: plain("drill-eu-1"),
    sourceStack: plain(SOURCE_STACK),
    restoreId: plain("2026-11-25"),
    oidcProviderArn: plain(
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/FEDCBA9876543210FEDCBA98",
    ),
    repoPassword: secret("kopia-repo-password-0123456789"),
    gitRepoUrl: plain("https://github.com/acme/platform-gitops.git"),
    sourceReplica: plain("true"),
};

/** The same drill without any state: every value from the break-glass card. */
const DRILL_NO_STATE: RawConfig = {
    ...Object.fromEntries(Object.entries(DRILL).filter(([k]) => k !== "sourceStack")),
    bucketName: plain(PROD_OUTPUTS.bucketName),
    region: plain(PROD_OUTPUTS.region),
    kmsKeyArn: plain(PROD_OUTPUTS.kmsKeyArn),
    sourcePrefix: plain(PROD_OUTPUTS.prefix),
    sourceScheduleName: plain(PROD_OUTPUTS.dailyScheduleName),
    sourceReplicaBucketName: plain(PROD_OUTPUTS.replicaBucketName),
    sourceReplicaRegion: plain(PROD_OUTPUTS.replicaRegion),
    sourceReplicaKmsKeyArn: plain(PROD_OUTPUTS.replicaKmsKeyArn),
};

function withKeys(base: RawConfig, changes: Readonly<Record<string, string | null>>): RawConfig {
    const raw = { ...base };
    for (const [key, value] of Object.entries(changes)) {
        if (value === null) {
            delete raw[key];
        } else {
            raw[key] = plain(value);
        }
    }
    return raw;
}

function problemsOf(raw: RawConfig, source: SourceOutputs = {}): readonly ConfigProblem[] {
    try {
        parseConfigWithWarnings(raw, "drill", source);
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
    return [];
}

/** The one problem `raw` has, which must be about `key`. */
function onlyProblem(raw: RawConfig, key: string, source: SourceOutputs = {}): string {
    const problems = problemsOf(raw, source);
    assert.deepEqual(
        problems.map((p) => p.key),
        [`gitops-dr:${key}`],
        problems.map((p) => p.message).join("\n"),
    );
    return problems[0].message;
}

describe("sourceReplica: config", () => {
    it("reads the replica's bucket, region and key from the source stack's outputs; the vault stays the vault", () => {
        const { config, warnings } = parseConfigWithWarnings(DRILL, "drill", PROD_OUTPUTS);
        assert.deepEqual(config.source?.replica, {
            bucketName: PROD_OUTPUTS.replicaBucketName,
            region: PROD_OUTPUTS.replicaRegion,
            kmsKeyArn: PROD_OUTPUTS.replicaKmsKeyArn,
        });
        assert.equal(config.vault.bucketName, PROD_OUTPUTS.bucketName);
        assert.equal(config.vault.region, PROD_OUTPUTS.region);
        assert.deepEqual(warnings, []);
    });

    it("reads them from explicit keys when there is no state (the break-glass card), and explicit keys win", () => {
        const noState = parseConfigWithWarnings(DRILL_NO_STATE, "drill", {}).config;
        assert.equal(noState.source?.replica?.bucketName, PROD_OUTPUTS.replicaBucketName);
        const other = parseConfigWithWarnings(
            withKeys(DRILL, { sourceReplicaBucketName: "acme-vault-copy" }),
            "drill",
            PROD_OUTPUTS,
        ).config;
        assert.equal(other.source?.replica?.bucketName, "acme-vault-copy");
        assert.equal(other.source?.replica?.region, PROD_OUTPUTS.replicaRegion);
    });

    it("without sourceReplica the vault is read, whatever the source stack's replica", () => {
        const { config } = parseConfigWithWarnings(withKeys(DRILL, { sourceReplica: null }), "drill", PROD_OUTPUTS);
        assert.equal(config.source?.replica, undefined);
    });

    it("refuses sourceReplica in a protect stack", () => {
        const problems = (() => {
            try {
                parseConfigWithWarnings(
                    {
                        mode: plain("protect"),
                        clusterName: plain("prod-eu-1"),
                        region: plain("eu-west-1"),
                        bucketName: plain("acme-velero-vault"),
                        oidcProviderArn: DRILL.oidcProviderArn,
                        repoPassword: DRILL.repoPassword,
                        gitRepoUrl: DRILL.gitRepoUrl,
                        breakGlassPrincipalArns: plain('["arn:aws:iam::111122223333:role/vault-break-glass"]'),
                        sourceReplica: plain("true"),
                    },
                    "prod",
                );
            } catch (e) {
                return (e as ConfigError).problems;
            }
            return [];
        })();
        assert.deepEqual(
            problems.map((p) => [p.key, p.message]),
            [
                [
                    "gitops-dr:sourceReplica",
                    '"true" cannot be set in a protect stack: a protect stack restores only its own backups, from the vault. Fix: `pulumi config rm gitops-dr:sourceReplica`.',
                ],
            ],
        );
    });

    it("warns that a vault in us-east-1 takes IAM's control plane down with it", () => {
        const east = {
            ...PROD_OUTPUTS,
            region: "us-east-1",
            kmsKeyArn: "arn:aws:kms:us-east-1:111122223333:key/vault",
        };
        const { warnings } = parseConfigWithWarnings(DRILL, "drill", east);
        assert.deepEqual(
            warnings.map((w) => w.key),
            ["gitops-dr:sourceReplica"],
        );
        assert.match(warnings[0].message, /IAM's control plane/);
        assert.deepEqual(parseConfigWithWarnings(DRILL, "drill", PROD_OUTPUTS).warnings, []);
    });

    it("judges the replica against the source vault, not a vault this stack writes to meanwhile", () => {
        // Writing its own backups to a vault in the replica's region while the source vault's region is down.
        const { config } = parseConfigWithWarnings(
            withKeys(DRILL, {
                region: "eu-central-1",
                bucketName: "acme-vault-central",
                kmsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/central",
            }),
            "drill",
            PROD_OUTPUTS,
        );
        assert.equal(config.source?.replica?.region, PROD_OUTPUTS.replicaRegion);
    });

    it("refuses it when the source stack has no replica", () => {
        const { replicaBucketName, replicaRegion, replicaKmsKeyArn, ...withoutReplica } = PROD_OUTPUTS;
        assert.ok(replicaBucketName && replicaRegion && replicaKmsKeyArn);
        const message = onlyProblem(DRILL, "sourceReplica", withoutReplica);
        assert.match(message, /^is true, but the source stack acme\/gitops-dr\/prod has no replica/);
        assert.match(message, /Fix: `pulumi config rm gitops-dr:sourceReplica`/);
    });

    it("refuses it without a source stack or replica keys", () => {
        const raw = withKeys(DRILL_NO_STATE, {
            sourceReplicaBucketName: null,
            sourceReplicaRegion: null,
            sourceReplicaKmsKeyArn: null,
        });
        assert.match(
            onlyProblem(raw, "sourceReplica"),
            /no replica is named and there is no source stack.*Fix: set sourceReplicaBucketName, sourceReplicaRegion and sourceReplicaKmsKeyArn \(the break-glass card's replicaBucketName, replicaRegion, replicaKmsKeyArn\)/,
        );
    });

    it("requires each replica key the outputs do not give", () => {
        const message = onlyProblem(
            withKeys(DRILL_NO_STATE, { sourceReplicaKmsKeyArn: null }),
            "sourceReplicaKmsKeyArn",
        );
        assert.match(
            message,
            /^is required with sourceReplica true\. Fix: `pulumi config set gitops-dr:sourceReplicaKmsKeyArn arn:aws:kms:eu-central-1:111122223333:key\/<key-id>`/,
        );
    });

    for (const key of ["sourceReplicaBucketName", "sourceReplicaRegion", "sourceReplicaKmsKeyArn"]) {
        it(`refuses ${key} without sourceReplica true`, () => {
            const raw = withKeys(DRILL_NO_STATE, { sourceReplica: null, [key]: DRILL_NO_STATE[key].value });
            const others = ["sourceReplicaBucketName", "sourceReplicaRegion", "sourceReplicaKmsKeyArn"].filter(
                (k) => k !== key,
            );
            const message = onlyProblem(withKeys(raw, Object.fromEntries(others.map((k) => [k, null]))), key);
            assert.equal(
                message,
                `${JSON.stringify(DRILL_NO_STATE[key].value)} is set but sourceReplica is not true, so the backups are read from the vault and this names nothing. Fix: \`pulumi config set gitops-dr:sourceReplica true\` to read the replica, or \`pulumi config rm gitops-dr:${key}\`.`,
            );
        });
    }

    it("refuses a replica region that is no region", () => {
        assert.match(
            onlyProblem(withKeys(DRILL, { sourceReplicaRegion: "eu-cental-1" }), "sourceReplicaRegion", PROD_OUTPUTS),
            /^"eu-cental-1" .*Fix: `pulumi config set gitops-dr:sourceReplicaRegion eu-central-1`/,
        );
    });

    it("refuses the vault's own region", () => {
        assert.match(
            onlyProblem(
                withKeys(DRILL, {
                    sourceReplicaRegion: "eu-west-1",
                    sourceReplicaKmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
                }),
                "sourceReplicaRegion",
                PROD_OUTPUTS,
            ),
            /^"eu-west-1" is the vault's own region: the replica is read when that region is down.*Fix: `pulumi config set gitops-dr:sourceReplicaRegion <the replica's region>`/,
        );
    });

    it("refuses a replica bucket name that is no bucket name", () => {
        assert.match(
            onlyProblem(
                withKeys(DRILL, { sourceReplicaBucketName: "Acme_Replica" }),
                "sourceReplicaBucketName",
                PROD_OUTPUTS,
            ),
            /^"Acme_Replica" is not a valid S3 bucket name.*Fix: `pulumi config set gitops-dr:sourceReplicaBucketName acme-velero-vault-replica`/,
        );
    });

    it("refuses the vault bucket itself as the replica", () => {
        assert.match(
            onlyProblem(
                withKeys(DRILL, { sourceReplicaBucketName: PROD_OUTPUTS.bucketName }),
                "sourceReplicaBucketName",
                PROD_OUTPUTS,
            ),
            /^"acme-gitops-dr-vault" is the vault bucket itself, not its replica\. Fix: `pulumi config set gitops-dr:sourceReplicaBucketName acme-gitops-dr-vault-replica`/,
        );
    });

    it("refuses a replica key that is no key ARN", () => {
        assert.match(
            onlyProblem(
                withKeys(DRILL, { sourceReplicaKmsKeyArn: "alias/velero" }),
                "sourceReplicaKmsKeyArn",
                PROD_OUTPUTS,
            ),
            /^"alias\/velero" is not a KMS key ARN.*Fix: `pulumi config set gitops-dr:sourceReplicaKmsKeyArn arn:aws:kms:eu-central-1:111122223333:key\/<key-id>`/,
        );
    });

    it("refuses a replica key of another region, naming the source stack's output it came from", () => {
        assert.match(
            onlyProblem(DRILL, "sourceReplicaKmsKeyArn", {
                ...PROD_OUTPUTS,
                replicaKmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
            }),
            /^the source stack acme\/gitops-dr\/prod's output replicaKmsKeyArn is a key in eu-west-1, but the replica is in eu-central-1.*Fix: `pulumi config set gitops-dr:sourceReplicaKmsKeyArn arn:aws:kms:eu-central-1:111122223333:key\/<key-id>`/,
        );
    });

    it("refuses it with native snapshots, whose data S3 does not replicate", () => {
        assert.match(
            onlyProblem(withKeys(DRILL, { volumeDataMode: "nativeSnapshots" }), "sourceReplica", PROD_OUTPUTS),
            /^is true with volumeDataMode nativeSnapshots: the volume data is in EBS snapshots in eu-west-1, which S3 replication does not copy.*Fix: `pulumi config rm gitops-dr:sourceReplica`/,
        );
    });
});

/** The S3 and KMS requests a restore makes, with what AWS must answer. */
const RESTORER_REQUESTS: readonly [string, string, "Allowed" | "denied"][] = [
    ["s3:ListBucket", REPLICA_BUCKET, "Allowed"],
    ["s3:GetObject", `${REPLICA_BUCKET}/${BACKUP}`, "Allowed"],
    ["s3:GetObject", `${REPLICA_BUCKET}/prod-eu-1/kopia/shop/p0123abcd`, "Allowed"],
    ["s3:PutObject", `${REPLICA_BUCKET}/prod-eu-1/restores/drill-eu-1-2026-11-25/restore-logs.gz`, "Allowed"],
    // Read-only towards the backups, as on the vault.
    ["s3:DeleteObject", `${REPLICA_BUCKET}/${BACKUP}`, "denied"],
    ["s3:PutObject", `${REPLICA_BUCKET}/${BACKUP}`, "denied"],
    ["s3:DeleteObject", `${REPLICA_BUCKET}/prod-eu-1/kopia/shop/p0123abcd`, "denied"],
    ["s3:PutObject", `${REPLICA_BUCKET}/prod-eu-1/kopia/shop/kopia.repository`, "denied"],
    ["s3:DeleteObjectVersion", `${REPLICA_BUCKET}/prod-eu-1/restores/x/logs.gz`, "denied"],
    ["s3:BypassGovernanceRetention", `${REPLICA_BUCKET}/${BACKUP}`, "denied"],
    ["s3:PutObjectRetention", `${REPLICA_BUCKET}/${BACKUP}`, "denied"],
    ["s3:PutBucketPolicy", REPLICA_BUCKET, "denied"],
    ["s3:PutReplicationConfiguration", REPLICA_BUCKET, "denied"],
    // Nothing on the vault, whose region is down: the role reads one place.
    ["s3:GetObject", `${VAULT_BUCKET}/${BACKUP}`, "denied"],
];

describe("a drill from the replica", () => {
    let run: ProgramRun;
    let restorer: PolicyDocument;
    before(async () => {
        run = await runProgram({
            stack: "drill",
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
            config: { sourceReplica: true },
        });
        restorer = policyOf(
            run.one("aws:iam/policy:Policy", "gitops-dr-drill-velero-iam-restorer").inputs.policy,
        ) as unknown as PolicyDocument;
    });

    it("its location reads the replica bucket, in the replica's region, with the replica's key, read-only", () => {
        const location = run.one(
            "kubernetes:velero.io/v1:BackupStorageLocation",
            "gitops-dr-drill-velero-source-location",
        );
        assert.deepEqual(location.inputs.spec, {
            provider: "aws",
            objectStorage: { bucket: PROD_OUTPUTS.replicaBucketName, prefix: PROD_OUTPUTS.prefix },
            config: { region: PROD_OUTPUTS.replicaRegion, kmsKeyId: PROD_OUTPUTS.replicaKmsKeyArn },
            accessMode: "ReadOnly",
            default: true,
        });
        // The only location: a drill writes nothing anywhere.
        assert.equal(run.ofType("kubernetes:velero.io/v1:BackupStorageLocation").length, 1);
    });

    it("reads a protect stack that has only the nested replica output (last updated before the flat ones)", async () => {
        const prod = STACK_REFERENCES["acme/gitops-dr/prod"];
        const { replicaBucketName, replicaRegion, replicaKmsKeyArn, ...older } = prod;
        const legacy = await runProgram({
            stack: "drill",
            secrets: STACK_SECRETS,
            stackReferences: {
                "acme/gitops-dr/prod": {
                    ...older,
                    replica: { bucketName: replicaBucketName, region: replicaRegion, kmsKeyArn: replicaKmsKeyArn },
                },
            },
            config: { sourceReplica: true },
        });
        const location = legacy.one(
            "kubernetes:velero.io/v1:BackupStorageLocation",
            "gitops-dr-drill-velero-source-location",
        );
        assert.deepEqual(location.inputs.spec, run.one(location.type, location.name).inputs.spec);
    });

    it("its AWS calls go to the replica's region, and the restore completes", () => {
        assert.equal(run.one("pulumi:providers:aws", "gitops-dr-drill-aws").inputs.region, PROD_OUTPUTS.replicaRegion);
        assert.equal((run.outputs.restore as { phase?: string }).phase, "Completed");
        assert.deepEqual(run.warnings, []);
        assert.deepEqual(run.outputs.sourceReplica, {
            bucketName: PROD_OUTPUTS.replicaBucketName,
            region: PROD_OUTPUTS.replicaRegion,
            kmsKeyArn: PROD_OUTPUTS.replicaKmsKeyArn,
        });
    });

    it("its role's only policy names the replica and its key, used through S3 in the replica's region", () => {
        assert.deepEqual(
            run.ofType("aws:iam/policy:Policy").map((p) => p.inputs.name),
            ["drill-eu-1-velero-restorer"],
        );
        const text = JSON.stringify(restorer);
        assert.ok(!text.includes(`${VAULT_BUCKET}/`) && !text.includes(`"${VAULT_BUCKET}"`), text);
        const key = restorer.Statement.find((s) => s.Sid === "UseVaultKeyThroughS3")!;
        assert.equal(key.Resource, PROD_OUTPUTS.replicaKmsKeyArn);
        assert.deepEqual(key.Condition, { StringEquals: { "kms:ViaService": "s3.eu-central-1.amazonaws.com" } });
    });

    for (const [action, resource, expected] of RESTORER_REQUESTS) {
        it(`IAM simulator: the drill's role ${action} on ${resource.replace("arn:aws:s3:::", "")} is ${expected}`, async () => {
            const decision = await decide([restorer], action, resource, {
                bucketPolicy: bucketPolicy(REPLICA_BUCKET, PROD_OUTPUTS.replicaKmsKeyArn),
            });
            if (expected === "Allowed") {
                assert.equal(decision, "Allowed");
            } else {
                assert.notEqual(decision, "Allowed");
            }
        });
    }

    it("IAM simulator: the drill's role decrypts with the replica's key through S3 only", async () => {
        // The replica's key policy as the protect stack writes it (components/iam.ts vaultKeyPolicy), same account.
        const keyPolicy = vaultKeyPolicy({
            accountId: "111122223333",
            partition: "aws",
            region: PROD_OUTPUTS.replicaRegion,
            breakGlassPrincipalArns: ["arn:aws:iam::111122223333:role/gitops-dr-vault-break-glass"],
        });
        const decrypt = (resource: string, context: Record<string, string>) =>
            decideAcross({
                principalArn: "arn:aws:sts::111122223333:assumed-role/drill-eu-1-velero/velero",
                identity: [restorer],
                action: "kms:Decrypt",
                resource,
                resourceAccount: "111122223333",
                resourcePolicy: keyPolicy,
                context,
            });
        const via = (region: string) => ({ "kms:ViaService": `s3.${region}.amazonaws.com` });
        assert.equal(await decrypt(PROD_OUTPUTS.replicaKmsKeyArn, via("eu-central-1")), "Allowed");
        assert.notEqual(await decrypt(PROD_OUTPUTS.replicaKmsKeyArn, {}), "Allowed", "directly");
        assert.notEqual(await decrypt(PROD_OUTPUTS.kmsKeyArn, via("eu-west-1")), "Allowed", "the vault's key");
    });

    it("passes the policy pack without a mandatory violation (iam-restore-role-read-only judges the replica's location)", async () => {
        const evaluation = await evaluatePack(analyzedResources(run), POLICIES, {});
        assert.deepEqual(
            evaluation.violations
                .filter((v) => v.enforcementLevel === "mandatory")
                .map((v) => `${v.policyName}: ${v.message}`),
            [],
        );
    });
});

describe("a recovery from the replica", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({
            stack: "recover",
            config: { ...RECOVER_CONFIG, sourceReplica: true },
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        });
    });

    it("restores from the replica and writes its own backups to the vault, under its own prefix", () => {
        const locations = run.ofType("kubernetes:velero.io/v1:BackupStorageLocation");
        assert.deepEqual(
            locations.map((l) => (l.inputs.spec as { objectStorage: unknown }).objectStorage),
            [{ bucket: PROD_OUTPUTS.replicaBucketName, prefix: "prod-eu-1" }],
        );
        const values = run.one("kubernetes:helm.sh/v3:Release", "gitops-dr-recover-velero-release").inputs.values as {
            configuration: { backupStorageLocation: { bucket: string; prefix: string; config: { region: string } }[] };
        };
        assert.deepEqual(
            values.configuration.backupStorageLocation.map((l) => [l.bucket, l.prefix, l.config.region]),
            [[PROD_OUTPUTS.bucketName, "prod-eu-2", PROD_OUTPUTS.region]],
        );
        assert.equal((run.outputs.restore as { phase?: string }).phase, "Completed");
    });

    it("its writer reaches the vault under its own prefix only, its restorer the replica read-only", async () => {
        const policy = (name: string) =>
            policyOf(run.one("aws:iam/policy:Policy", name).inputs.policy) as unknown as PolicyDocument;
        const writer = policy("gitops-dr-recover-velero-iam-writer");
        const restorer = policy("gitops-dr-recover-velero-iam-restorer");
        assert.ok(!JSON.stringify(writer).includes(PROD_OUTPUTS.replicaBucketName));
        const both = [writer, restorer];
        const onReplica = (action: string, key: string) =>
            decide(both, action, `${REPLICA_BUCKET}/${key}`, {
                bucketPolicy: bucketPolicy(REPLICA_BUCKET, PROD_OUTPUTS.replicaKmsKeyArn),
            });
        assert.equal(await onReplica("s3:GetObject", BACKUP), "Allowed");
        for (const action of ["s3:DeleteObject", "s3:PutObject"]) {
            assert.notEqual(await onReplica(action, BACKUP), "Allowed", action);
            assert.notEqual(await onReplica(action, "prod-eu-2/backups/b/velero-backup.json"), "Allowed", action);
        }
        assert.equal(
            await decide(both, "s3:PutObject", `${VAULT_BUCKET}/prod-eu-2/backups/b/velero-backup.json`),
            "Allowed",
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
});

describe("a drill from the replica of a vault in its own account", () => {
    const VAULT_ACCOUNT = "444455556666";
    const ROLE = `arn:aws:iam::${VAULT_ACCOUNT}:role/gitops-dr-vault-admin`;
    const DRILL_ROLE = "arn:aws:iam::777788889999:role/drill-eu-1-velero";
    const ADMIN = "arn:aws:sts::111122223333:assumed-role/AdministratorAccess/mallory";
    const ALL: PolicyDocument = {
        Version: "2012-10-17",
        Statement: [{ Sid: "Everything", Effect: "Allow", Action: "*", Resource: "*" }],
    };
    let prod: ProgramRun;
    let replicaPolicy: PolicyDocument;
    let replicaKeyPolicy: PolicyDocument;
    let replicaBucket: string;
    let replicaKeyArn: string;
    let restorer: PolicyDocument;
    before(async () => {
        prod = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { vaultAccountRoleArn: ROLE, vaultRestorerRoleArns: [DRILL_ROLE], breakGlassPrincipalArns: [ROLE] },
        });
        replicaPolicy = policyOf(
            prod.one("aws:s3/bucketPolicy:BucketPolicy", "gitops-dr-prod-vault-replica-policy").inputs.policy,
        ) as unknown as PolicyDocument;
        const key = prod.one("aws:kms/key:Key", "gitops-dr-prod-vault-replica-key");
        replicaKeyPolicy = policyOf(key.inputs.policy) as unknown as PolicyDocument;
        replicaKeyArn = String(key.outputs.arn);
        replicaBucket = `arn:aws:s3:::${String(prod.outputs.replicaBucketName)}`;
        // The drill reads this very prod run's outputs.
        const drill = await runProgram({
            stack: "drill",
            secrets: STACK_SECRETS,
            stackReferences: { [SOURCE_STACK]: prod.outputs },
            config: { sourceReplica: true },
        });
        restorer = policyOf(
            drill.one("aws:iam/policy:Policy", "gitops-dr-drill-velero-iam-restorer").inputs.policy,
        ) as unknown as PolicyDocument;
    });
    const onReplica = (principalArn: string, identity: PolicyDocument, action: string, resource: string) =>
        decideAcross({
            principalArn,
            identity: [identity],
            action,
            resource,
            resourceAccount: VAULT_ACCOUNT,
            resourcePolicy: replicaPolicy,
        });

    it("the protect stack exports the replica, which the drill's location reads", () => {
        assert.equal(prod.outputs.replicaRegion, "eu-central-1");
        assert.equal(prod.outputs.replicaKmsKeyArn, replicaKeyArn);
        assert.equal(replicaKeyArn.split(":")[4], VAULT_ACCOUNT);
    });

    it("the replica's bucket and key policies name the drill's role, never the cluster's writer, and deny foreign changes", () => {
        for (const policy of [replicaPolicy, replicaKeyPolicy]) {
            const named = policy.Statement.filter(
                (s) => s.Effect === "Allow" && s.Condition?.ArnEquals !== undefined,
            ).map((s) => (s.Condition!.ArnEquals as Record<string, string>)["aws:PrincipalArn"]);
            assert.deepEqual([...new Set(named)], [DRILL_ROLE]);
        }
        assert.ok(replicaPolicy.Statement.some((s) => s.Sid === "DenyForeignAccounts" && s.Effect === "Deny"));
        const keyGrant = replicaKeyPolicy.Statement.find((s) => s.Sid.startsWith("Restorer"))!;
        assert.deepEqual(keyGrant.Condition?.StringEquals, { "kms:ViaService": "s3.eu-central-1.amazonaws.com" });
    });

    it("IAM simulator: the drill's role of a third account restores from the replica, read-only", async () => {
        const session = "arn:aws:sts::777788889999:assumed-role/drill-eu-1-velero/velero";
        assert.equal(await onReplica(session, restorer, "s3:GetObject", `${replicaBucket}/${BACKUP}`), "Allowed");
        assert.equal(await onReplica(session, restorer, "s3:ListBucket", replicaBucket), "Allowed");
        assert.equal(
            await onReplica(session, restorer, "s3:PutObject", `${replicaBucket}/prod-eu-1/restores/r/log.gz`),
            "Allowed",
        );
        for (const action of ["s3:DeleteObject", "s3:PutObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention"]) {
            assert.notEqual(await onReplica(session, ALL, action, `${replicaBucket}/${BACKUP}`), "Allowed", action);
        }
        assert.equal(
            await decideAcross({
                principalArn: session,
                identity: [restorer],
                action: "kms:Decrypt",
                resource: replicaKeyArn,
                resourceAccount: VAULT_ACCOUNT,
                resourcePolicy: replicaKeyPolicy,
                context: { "kms:ViaService": "s3.eu-central-1.amazonaws.com" },
            }),
            "Allowed",
        );
    });

    it("IAM simulator: the cluster's own Velero, whatever its policies, cannot write to the replica or read it", async () => {
        const velero = "arn:aws:sts::111122223333:assumed-role/prod-eu-1-velero/velero";
        for (const action of ["s3:PutObject", "s3:DeleteObject", "s3:GetObject"]) {
            assert.notEqual(
                await onReplica(velero, ALL, action, `${replicaBucket}/prod-eu-1/kopia/shop/p0`),
                "Allowed",
                action,
            );
        }
    });

    it("IAM simulator: an administrator of the cluster's account still cannot touch the replica", async () => {
        for (const action of ["s3:PutBucketPolicy", "s3:PutLifecycleConfiguration", "s3:DeleteBucket"]) {
            assert.notEqual(await onReplica(ADMIN, ALL, action, replicaBucket), "Allowed", action);
        }
        for (const action of ["s3:GetObject", "s3:DeleteObjectVersion"]) {
            assert.notEqual(await onReplica(ADMIN, ALL, action, `${replicaBucket}/${BACKUP}`), "Allowed", action);
        }
    });

    it("passes the policy pack without a mandatory violation", async () => {
        const evaluation = await evaluatePack(analyzedResources(prod), POLICIES, {});
        assert.deepEqual(
            evaluation.violations
                .filter((v) => v.enforcementLevel === "mandatory")
                .map((v) => `${v.policyName}: ${v.message}`),
            [],
        );
    });
});

describe("npm run plan of the shipped replica drill (examples/Pulumi.drill-replica.yaml)", () => {
    it("shows the source location on the replica bucket, in the replica's region, with its key, and how to check it", async () => {
        const { plan } = await planStack({
            name: "drill-replica",
            file: path.join(ROOT, "examples", "Pulumi.drill-replica.yaml"),
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        });
        const location = plan.steps.find((s) => s.type === "kubernetes:velero.io/v1:BackupStorageLocation")!;
        const expected = `s3://${PROD_OUTPUTS.replicaBucketName}/prod-eu-1 in eu-central-1, KMS key ${PROD_OUTPUTS.replicaKmsKeyArn}, ReadOnly`;
        assert.equal(location.storage, expected);
        assert.ok(formatPlan(plan).includes(`storage:   ${expected}`));
        assert.deepEqual(
            location.checks.map((c) => c.expect.split(":")[0]),
            [
                `PHASE \`Available\`, BUCKET/PREFIX \`${PROD_OUTPUTS.replicaBucketName}/prod-eu-1\`, ACCESS MODE \`ReadOnly\``,
                `\`eu-central-1 arn`,
                "the backups found under that prefix, STORAGE LOCATION `source`, synced into the cluster",
            ],
        );
    });
});

describe("what the replica lacks, on the simulated cluster", () => {
    const at = (day: number) => `2026-11-${day}T02:00:00Z`;
    const daily = (day: number) => backupNamed(`prod-eu-1-daily-202611${day}020000`, { startTimestamp: at(day) });
    const credentials = (day: number) =>
        backupNamed(`prod-eu-1-credentials-202611${day}020000`, {
            schedule: "prod-eu-1-credentials",
            startTimestamp: at(day),
        });
    const drill = (replica: readonly SimulatedBackup[], config: RunOptions["config"] = {}) =>
        runProgram({
            stack: "drill",
            config: { sourceReplica: true, ...config },
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
            startedAt: Date.parse("2026-11-25T10:00:00Z"),
            cluster: {
                // The vault holds the 23rd to the 25th; its region is down, and nothing reads it.
                backups: [daily(23), daily(24), daily(25)],
                credentialsBackups: [credentials(25)],
                bucketBackups: { [PROD_OUTPUTS.replicaBucketName]: replica },
            },
        });

    it("a backup replication has not copied yet is not there: the newest one the replica holds is restored, and its age reported", async () => {
        const run = await drill([daily(23), daily(24), credentials(24)]);
        const outcome = run.outputs.restore as { backupName: string; phase: string };
        assert.equal(outcome.backupName, "prod-eu-1-daily-20261124020000");
        assert.equal(outcome.phase, "Completed");
        assert.equal(run.outputs.restoredBackupStartTimestamp, at(24));
    });

    it("a backup the replica lacks cannot be named: the check stops the run before the Restore", async () => {
        const error = await drill([daily(23), credentials(24)], {
            restoreBackupName: "prod-eu-1-daily-20261125020000",
        }).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as ProgramError,
        );
        assert.match(
            error.message,
            /Backup prod-eu-1-daily-20261125020000 is not in the cluster: Velero has not synced it from the bucket.*The location reads the vault's replica, which holds only what replication has copied: not a backup taken minutes ago, nor one written before replication was on; restore an older one it has with gitops-dr:restoreBackupName\./,
        );
        assert.equal(
            error.resources.filter(
                (r) =>
                    r.type === "kubernetes:velero.io/v1:Restore" &&
                    (r.inputs.spec as { backupName?: string }).backupName === "prod-eu-1-daily-20261125020000",
            ).length,
            0,
        );
    });

    it("a replica with no backup of the schedule (all older than replication) stops the run, naming the schedule", async () => {
        const error = await drill([]).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as ProgramError,
        );
        assert.match(
            error.message,
            /No Completed backup of schedule prod-eu-1-(daily|credentials) is in the cluster \(0 backups of it.*The location reads the vault's replica/,
        );
    });
});
