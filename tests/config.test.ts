/**
 * Unit tests of the configuration rules in components/config.ts, in the style of pulumi/compliance-policies:
 * each mode has a compliant fixture that parses; every case changes one key of it and asserts the exact
 * problem (key and message) that rule reports, so a reworded or dropped rule shows up here.
 */
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import {
    CONFIG_KEYS,
    ConfigError,
    ConfigProblem,
    DERIVED_DEFAULTS,
    RawConfig,
    RawValue,
    StackConfig,
    cronProblem,
    isValidBucketName,
    parseConfig,
    parseDurationHours,
} from "../components/config";

// --- Fixtures ----------------------------------------------------------------------------------------------

const STACK = "prod";
const OIDC_ARN = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF";
const KMS_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const REPO_PASSWORD = "kopia-repo-password-0123456789";
const OIDC_FIX = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE";
const KMS_FIX = "arn:aws:kms:eu-west-1:111122223333:key/<key-id>";

const plain = (value: string): RawValue => ({ value, secret: false });
const secret = (value: string): RawValue => ({ value, secret: true });

/** A live cluster that creates the vault (createBucket defaults to true, so no kmsKeyArn). */
const PROTECT: RawConfig = {
    mode: plain("protect"),
    clusterName: plain("prod-eu-1"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    oidcProviderArn: plain(OIDC_ARN),
    repoPassword: secret(REPO_PASSWORD),
};

/** A replacement cluster that restores prod-eu-1's backups from the existing vault, given explicitly. */
const RECOVER: RawConfig = {
    mode: plain("recover"),
    clusterName: plain("prod-eu-2"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    kmsKeyArn: plain(KMS_ARN),
    sourcePrefix: plain("prod-eu-1"),
    oidcProviderArn: plain(OIDC_ARN),
    repoPassword: secret(REPO_PASSWORD),
};

/** A read-only rebuild test from prod-eu-1's backups, with the vault given explicitly. */
const DRILL: RawConfig = {
    mode: plain("drill"),
    clusterName: plain("drill-eu-1"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    kmsKeyArn: plain(KMS_ARN),
    sourcePrefix: plain("prod-eu-1"),
    oidcProviderArn: plain(OIDC_ARN),
    repoPassword: secret(REPO_PASSWORD),
};

/** `base` with some keys changed: a string sets a plain value, a RawValue sets it as is, null removes the key. */
function withKeys(base: RawConfig, changes: Readonly<Record<string, string | RawValue | null>>): RawConfig {
    const raw: Record<string, RawValue> = { ...base };
    for (const [key, value] of Object.entries(changes)) {
        if (value === null) {
            delete raw[key];
        } else {
            raw[key] = typeof value === "string" ? plain(value) : value;
        }
    }
    return raw;
}

/** The ConfigError `parseConfig` throws for `raw`; fails the test when it parses. */
function configError(raw: RawConfig, stack = STACK): ConfigError {
    try {
        parseConfig(raw, stack);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        return e;
    }
    assert.fail("expected parseConfig to throw a ConfigError");
}

/** Every problem reported for `raw`. */
function problemsOf(raw: RawConfig, stack = STACK): readonly ConfigProblem[] {
    return configError(raw, stack).problems;
}

/** Asserts `raw` has exactly one problem, on `key`, and returns its message. */
function onlyProblem(raw: RawConfig, key: string, stack = STACK): string {
    const problems = problemsOf(raw, stack);
    assert.deepEqual(
        problems.map((p) => p.key),
        [`gitops-dr:${key}`],
        `expected one problem on gitops-dr:${key}, got:\n${problems.map((p) => `${p.key}: ${p.message}`).join("\n")}`,
    );
    return problems[0].message;
}

function isDeeplyFrozen(value: unknown, seen = new Set<unknown>()): boolean {
    if (value === null || typeof value !== "object" || pulumi.Output.isInstance(value) || seen.has(value)) {
        return true;
    }
    seen.add(value);
    return Object.isFrozen(value) && Object.values(value).every((v) => isDeeplyFrozen(v, seen));
}

// --- Compliant fixtures ------------------------------------------------------------------------------------

describe("parseConfig: compliant fixtures", () => {
    it("parses the protect fixture with its defaults", () => {
        const cfg = parseConfig(PROTECT, STACK);
        assert.equal(cfg.project, "gitops-dr");
        assert.equal(cfg.stack, STACK);
        assert.equal(cfg.mode, "protect");
        assert.equal(cfg.clusterName, "prod-eu-1");
        assert.equal(cfg.kubeContext, "");
        assert.equal(cfg.prefix, "prod-eu-1", "prefix defaults to clusterName");
        assert.equal(cfg.source, undefined);
        assert.equal(cfg.vault.create, true, "createBucket defaults to true in protect");
        assert.equal(cfg.vault.bucketName, "acme-velero-vault");
        assert.equal(cfg.vault.region, "eu-west-1");
        assert.equal(cfg.vault.kmsKeyArn, undefined);
        assert.equal(cfg.vault.lockMode, "COMPLIANCE");
        assert.equal(cfg.vault.lockDays, 31);
        assert.equal(cfg.vault.noncurrentVersionExpirationDays, 31, "defaults to lockDays");
        assert.equal(cfg.vault.abortIncompleteMultipartUploadDays, 7);
        assert.deepEqual(cfg.vault.transitions, []);
        assert.equal(cfg.vault.replica, undefined);
        assert.deepEqual(cfg.credentials, { mode: "irsa", oidcProviderArn: OIDC_ARN });
        assert.equal(cfg.velero.namespace, "velero");
        assert.equal(cfg.velero.releaseName, "velero");
        assert.equal(cfg.velero.volumeDataMode, "dataMover");
        assert.equal(cfg.velero.awsPluginVersion, CONFIG_KEYS.awsPluginVersion.default);
        assert.deepEqual(cfg.velero.tiers, [{ key: "daily", cron: "0 2 * * *", ttl: "720h", ttlHours: 720 }]);
        assert.deepEqual(cfg.velero.excludedNamespaces, []);
        assert.deepEqual(cfg.monitoring, { prometheusOperator: false });
    });

    it("parses the recover fixture, with the source prefix and its own prefix", () => {
        const cfg = parseConfig(RECOVER, "recover");
        assert.equal(cfg.mode, "recover");
        assert.equal(cfg.prefix, "prod-eu-2");
        assert.deepEqual(cfg.source, { stack: undefined, prefix: "prod-eu-1" });
        assert.equal(cfg.vault.create, false);
        assert.equal(cfg.vault.kmsKeyArn, KMS_ARN);
        assert.deepEqual(cfg.velero.tiers, [{ key: "daily", cron: "0 2 * * *", ttl: "720h", ttlHours: 720 }]);
    });

    it("parses the drill fixture: no prefix and no backup tiers", () => {
        const cfg = parseConfig(DRILL, "drill");
        assert.equal(cfg.mode, "drill");
        assert.equal(cfg.prefix, undefined);
        assert.deepEqual(cfg.source, { stack: undefined, prefix: "prod-eu-1" });
        assert.equal(cfg.vault.create, false);
        assert.deepEqual(cfg.velero.tiers, []);
    });

    it("parses a drill that takes the vault and source prefix from sourceStack alone", () => {
        const cfg = parseConfig(
            withKeys(DRILL, { region: null, bucketName: null, kmsKeyArn: null, sourcePrefix: null, sourceStack: "acme/gitops-dr/prod" }),
            "drill",
        );
        assert.deepEqual(cfg.source, { stack: "acme/gitops-dr/prod", prefix: undefined });
        assert.equal(cfg.vault.bucketName, undefined);
        assert.equal(cfg.vault.region, undefined);
        assert.equal(cfg.vault.kmsKeyArn, undefined);
    });

    it("accepts createBucket false in a drill", () => {
        assert.equal(parseConfig(withKeys(DRILL, { createBucket: "false" }), "drill").vault.create, false);
    });

    it("returns a deeply frozen configuration", () => {
        const cfg: StackConfig = parseConfig(
            withKeys(PROTECT, { storageTransitions: '["STANDARD_IA:30"]', replicaRegion: "eu-central-1", excludedNamespaces: '["scratch"]' }),
            STACK,
        );
        assert.ok(Object.isFrozen(cfg));
        assert.ok(Object.isFrozen(cfg.vault));
        assert.ok(Object.isFrozen(cfg.vault.transitions));
        assert.ok(Object.isFrozen(cfg.vault.replica));
        assert.ok(Object.isFrozen(cfg.velero));
        assert.ok(Object.isFrozen(cfg.velero.tiers));
        assert.ok(Object.isFrozen(cfg.velero.tiers[0]));
        assert.ok(Object.isFrozen(cfg.velero.excludedNamespaces));
        assert.ok(Object.isFrozen(cfg.credentials));
        assert.ok(isDeeplyFrozen(cfg));
    });

    it("returns repoPassword as a secret Output", async () => {
        const cfg = parseConfig(PROTECT, STACK);
        assert.ok(pulumi.Output.isInstance(cfg.velero.repoPassword));
        assert.equal(await (cfg.velero.repoPassword as unknown as { isSecret: Promise<boolean> }).isSecret, true);
        assert.equal(await pulumi.isSecret(cfg.velero.repoPassword), true);
    });

    it("returns static access keys as secret Outputs", async () => {
        const cfg = parseConfig(
            withKeys(PROTECT, {
                credentialsMode: "staticKeys",
                oidcProviderArn: null,
                awsAccessKeyId: secret("AKIAIOSFODNN7EXAMPLE"),
                awsSecretAccessKey: secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            }),
            STACK,
        );
        assert.equal(cfg.credentials.mode, "staticKeys");
        if (cfg.credentials.mode === "staticKeys") {
            assert.equal(await (cfg.credentials.accessKeyId as unknown as { isSecret: Promise<boolean> }).isSecret, true);
            assert.equal(await (cfg.credentials.secretAccessKey as unknown as { isSecret: Promise<boolean> }).isSecret, true);
        }
    });

    it("defaults eksClusterName to clusterName with credentialsMode podIdentity", () => {
        const cfg = parseConfig(withKeys(PROTECT, { credentialsMode: "podIdentity", oidcProviderArn: null }), STACK);
        assert.deepEqual(cfg.credentials, { mode: "podIdentity", eksClusterName: "prod-eu-1" });
    });

    it("parses storage transitions in S3's order", () => {
        const cfg = parseConfig(withKeys(PROTECT, { storageTransitions: '["STANDARD_IA:30", "GLACIER_IR:60"]' }), STACK);
        assert.deepEqual(cfg.vault.transitions, [
            { storageClass: "STANDARD_IA", days: 30 },
            { storageClass: "GLACIER_IR", days: 60 },
        ]);
    });

    it("defaults the replica bucket to <bucketName>-replica", () => {
        const cfg = parseConfig(withKeys(PROTECT, { replicaRegion: "eu-central-1" }), STACK);
        assert.deepEqual(cfg.vault.replica, { region: "eu-central-1", bucketName: "acme-velero-vault-replica" });
    });

    it("adds a weekly tier with its default schedule when weeklyBackupTtl fits the lock", () => {
        const cfg = parseConfig(withKeys(PROTECT, { lockDays: "90", weeklyBackupTtl: "2160h" }), STACK);
        assert.deepEqual(cfg.velero.tiers, [
            { key: "daily", cron: DERIVED_DEFAULTS.backupSchedule, ttl: DERIVED_DEFAULTS.backupTtl, ttlHours: 720 },
            { key: "weekly", cron: DERIVED_DEFAULTS.weeklyBackupSchedule, ttl: "2160h", ttlHours: 2160 },
        ]);
    });

    it("accepts an awsPluginVersion on the v1.14 line (v1.14.9)", () => {
        assert.equal(parseConfig(withKeys(PROTECT, { awsPluginVersion: "v1.14.9" }), STACK).velero.awsPluginVersion, "v1.14.9");
    });

    it("accepts a backupTtl equal to lockDays (720h with lockDays 30)", () => {
        assert.equal(parseConfig(withKeys(PROTECT, { lockDays: "30", backupTtl: "720h" }), STACK).velero.tiers[0].ttlHours, 720);
    });
});

// --- One rule per case -------------------------------------------------------------------------------------

describe("parseConfig: unknown keys", () => {
    it("reports a misspelt key with the closest known one", () => {
        assert.deepEqual(problemsOf(withKeys(PROTECT, { lockDay: "30" })), [
            {
                key: "gitops-dr:lockDay",
                message: "is not a gitops-dr setting; did you mean gitops-dr:lockDays? Remove it with `pulumi config rm gitops-dr:lockDay`.",
            },
        ]);
    });

    it("reports an unknown key with no close match without a hint", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { completelyUnrelatedSetting: "x" }), "completelyUnrelatedSetting"),
            "is not a gitops-dr setting; Remove it with `pulumi config rm gitops-dr:completelyUnrelatedSetting`.",
        );
    });
});

describe("parseConfig: mode and identity", () => {
    it("rejects an unknown mode", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { mode: "restore" }), "mode"),
            '"restore" is not one of protect, recover, drill. Fix: `pulumi config set gitops-dr:mode protect`.',
        );
    });

    it("requires clusterName", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { clusterName: null }), "clusterName"),
            "is required. Fix: `pulumi config set gitops-dr:clusterName prod-eu-1`.",
        );
    });

    it("rejects a clusterName that is not a lowercase DNS label", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { clusterName: "Prod_EU" }), "clusterName"),
            '"Prod_EU" must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit (it names IAM roles). Fix: `pulumi config set gitops-dr:clusterName prod-eu-1`.',
        );
    });

    it("rejects a clusterName longer than 40 characters", () => {
        const name = "a".repeat(41);
        assert.equal(
            onlyProblem(withKeys(PROTECT, { clusterName: name }), "clusterName"),
            `"${name}" must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit (it names IAM roles). Fix: \`pulumi config set gitops-dr:clusterName prod-eu-1\`.`,
        );
    });
});

describe("parseConfig: where the vault is", () => {
    it("requires region in protect", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { region: null }), "region"),
            "is required. Fix: `pulumi config set gitops-dr:region eu-west-1`.",
        );
    });

    it("requires region in a drill without sourceStack", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { region: null }), "region"),
            "is required (or set sourceStack). Fix: `pulumi config set gitops-dr:region eu-west-1`.",
        );
    });

    it("rejects a region that is not an AWS region", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { region: "europe" }), "region"),
            '"europe" is not an AWS region. Fix: `pulumi config set gitops-dr:region eu-west-1`.',
        );
    });

    it("requires bucketName in protect", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { bucketName: null }), "bucketName"),
            "is required: the vault bucket to create or join. Fix: `pulumi config set gitops-dr:bucketName acme-velero-vault`.",
        );
    });

    it("requires bucketName in a drill without sourceStack", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { bucketName: null }), "bucketName"),
            "is required: a drill stack needs the source bucket. Fix: `pulumi config set gitops-dr:sourceStack acme/gitops-dr/prod` or `pulumi config set gitops-dr:bucketName acme-velero-vault`.",
        );
    });

    it("rejects an invalid bucketName", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { bucketName: "Acme_Vault" }), "bucketName"),
            '"Acme_Vault" is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit). Fix: `pulumi config set gitops-dr:bucketName acme-velero-vault`.',
        );
    });

    it("rejects a sourceStack that is not a stack name", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { sourceStack: "acme/gitops-dr/prod/extra" }), "sourceStack"),
            '"acme/gitops-dr/prod/extra" is not a stack name. Fix: `pulumi config set gitops-dr:sourceStack acme/gitops-dr/prod`.',
        );
    });

    it("rejects createBucket true in a recover stack", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { createBucket: "true" }), "createBucket"),
            '"true": a recover stack never creates a bucket; it reads the existing vault. Fix: `pulumi config rm gitops-dr:createBucket`.',
        );
    });

    it("rejects createBucket true in a drill", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { createBucket: "true" }), "createBucket"),
            '"true": a drill stack never creates a bucket; it reads the existing vault. Fix: `pulumi config rm gitops-dr:createBucket`.',
        );
    });

    it("rejects a createBucket that is not a boolean", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { createBucket: "yes" }), "createBucket"),
            '"yes" is not a boolean. Fix: `pulumi config set gitops-dr:createBucket true` or `false`.',
        );
    });

    it("rejects a kmsKeyArn that is not a KMS key ARN", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { kmsKeyArn: "arn:aws:kms:eu-west-1:1234:key/abc" }), "kmsKeyArn"),
            `"arn:aws:kms:eu-west-1:1234:key/abc" is not a KMS key ARN (an alias cannot be granted in IAM or matched by the bucket policy). Fix: \`pulumi config set gitops-dr:kmsKeyArn ${KMS_FIX}\`.`,
        );
    });

    it("requires kmsKeyArn in a protect stack that joins an existing vault (createBucket false)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { createBucket: "false" }), "kmsKeyArn"),
            `is required when the stack uses an existing vault: Velero encrypts with the vault's key. Fix: \`pulumi config set gitops-dr:kmsKeyArn ${KMS_FIX}\`.`,
        );
    });

    it("requires kmsKeyArn in a recover stack without sourceStack, mentioning sourceStack", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { kmsKeyArn: null }), "kmsKeyArn"),
            `is required when the stack uses an existing vault: Velero encrypts with the vault's key. Fix: \`pulumi config set gitops-dr:kmsKeyArn ${KMS_FIX}\` or set sourceStack.`,
        );
    });
});

describe("parseConfig: lock and lifecycle", () => {
    it("rejects an unknown lockMode", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockMode: "STRICT" }), "lockMode"),
            '"STRICT" is not one of GOVERNANCE, COMPLIANCE. Fix: `pulumi config set gitops-dr:lockMode COMPLIANCE`.',
        );
    });

    it("rejects a lockDays that is not a whole number", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockDays: "thirty" }), "lockDays"),
            '"thirty" is not a whole number. Fix: `pulumi config set gitops-dr:lockDays 31`.',
        );
    });

    it("rejects a fractional lockDays", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockDays: "30.5" }), "lockDays"),
            '"30.5" is not a whole number. Fix: `pulumi config set gitops-dr:lockDays 31`.',
        );
    });

    it("rejects a lockDays out of range", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockDays: "0" }), "lockDays"),
            "0 is out of range; it must be between 1 and 36500. Fix: `pulumi config set gitops-dr:lockDays 31`.",
        );
    });

    it("rejects a noncurrentVersionExpirationDays shorter than lockDays", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { noncurrentVersionExpirationDays: "10" }), "noncurrentVersionExpirationDays"),
            "10 is shorter than lockDays (31): S3 would try to expire versions that are still locked, and storage would be billed as if they were gone. Fix: `pulumi config set gitops-dr:noncurrentVersionExpirationDays 31` or leave it unset to follow lockDays.",
        );
    });

    it("rejects an abortIncompleteMultipartUploadDays out of range", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { abortIncompleteMultipartUploadDays: "366" }), "abortIncompleteMultipartUploadDays"),
            "366 is out of range; it must be between 1 and 365. Fix: `pulumi config set gitops-dr:abortIncompleteMultipartUploadDays 7`.",
        );
    });
});

describe("parseConfig: storageTransitions", () => {
    const transitions = (value: string) => onlyProblem(withKeys(PROTECT, { storageTransitions: value }), "storageTransitions");

    it("rejects an entry that is not STORAGE_CLASS:days", () => {
        assert.equal(
            transitions('["STANDARD_IA-30"]'),
            '"STANDARD_IA-30" is not "STORAGE_CLASS:days". Fix: `pulumi config set gitops-dr:storageTransitions \'["STANDARD_IA:30"]\'`.',
        );
    });

    it("rejects GLACIER: archived objects stall a recovery", () => {
        assert.equal(
            transitions('["GLACIER:90"]'),
            '"GLACIER:90": GLACIER is not allowed: archived objects cannot be read by Velero or kopia until restored by hand, which stalls a recovery. Use STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR.',
        );
    });

    it("rejects ONEZONE_IA: a single zone weakens the backup", () => {
        assert.equal(
            transitions('["ONEZONE_IA:30"]'),
            '"ONEZONE_IA:30": ONEZONE_IA is not allowed: it keeps the data in a single Availability Zone, which weakens the backup. Use STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR.',
        );
    });

    it("rejects a class that is not an S3 storage class", () => {
        assert.equal(
            transitions('["COLD:90"]'),
            '"COLD:90": COLD is not allowed: it is not an S3 storage class. Use STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR.',
        );
    });

    it("rejects STANDARD_IA sooner than 30 days", () => {
        assert.equal(
            transitions('["STANDARD_IA:10"]'),
            '"STANDARD_IA:10": S3 moves objects to STANDARD_IA no sooner than 30 days after creation. Fix: use "STANDARD_IA:30" or later.',
        );
    });

    it("rejects classes out of S3's order (GLACIER_IR then STANDARD_IA)", () => {
        assert.equal(
            transitions('["GLACIER_IR:30", "STANDARD_IA:60"]'),
            '"STANDARD_IA:60" comes after "GLACIER_IR:30", but S3 only moves objects down the order STANDARD_IA -> INTELLIGENT_TIERING -> GLACIER_IR. Fix: list the classes in that order.',
        );
    });

    it("rejects a transition less than 30 days after STANDARD_IA", () => {
        assert.equal(
            transitions('["STANDARD_IA:30", "GLACIER_IR:45"]'),
            '"GLACIER_IR:45" is too soon after "STANDARD_IA:30": objects must stay at least 30 days in STANDARD_IA first. Fix: use "GLACIER_IR:60" or later.',
        );
    });

    it("rejects a transition on the same day as the previous one (1-day gap after INTELLIGENT_TIERING)", () => {
        assert.equal(
            transitions('["INTELLIGENT_TIERING:10", "GLACIER_IR:10"]'),
            '"GLACIER_IR:10" is too soon after "INTELLIGENT_TIERING:10": objects must stay at least 1 day in INTELLIGENT_TIERING first. Fix: use "GLACIER_IR:11" or later.',
        );
    });

    it("rejects a value that is not a list", () => {
        assert.equal(
            transitions("STANDARD_IA:30"),
            "\"STANDARD_IA:30\" is not a list of strings. Fix: set it as a YAML list in Pulumi.prod.yaml, or `pulumi config set --path 'gitops-dr:storageTransitions[0]' <value>`.",
        );
    });
});

describe("parseConfig: replica", () => {
    it("rejects a replicaRegion equal to the vault's region", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { replicaRegion: "eu-west-1" }), "replicaRegion"),
            '"eu-west-1" is the vault\'s own region; an off-site replica must survive the loss of that region. Fix: `pulumi config set gitops-dr:replicaRegion eu-central-1` (another region).',
        );
    });

    it("suggests another region when the vault itself is in eu-central-1", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { region: "eu-central-1", replicaRegion: "eu-central-1" }), "replicaRegion"),
            '"eu-central-1" is the vault\'s own region; an off-site replica must survive the loss of that region. Fix: `pulumi config set gitops-dr:replicaRegion eu-west-1` (another region).',
        );
    });

    it("rejects a replicaRegion that is not an AWS region", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { replicaRegion: "mars-1" }), "replicaRegion"),
            '"mars-1" is not an AWS region. Fix: `pulumi config set gitops-dr:replicaRegion eu-central-1`.',
        );
    });

    it("rejects a replicaRegion in a stack that does not create the vault", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { createBucket: "false", kmsKeyArn: KMS_ARN, replicaRegion: "eu-central-1" }), "replicaRegion"),
            '"eu-central-1": only the stack that creates the vault configures its replica. Fix: `pulumi config rm gitops-dr:replicaRegion`.',
        );
    });

    it("rejects a replicaBucketName without replicaRegion", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { replicaBucketName: "acme-velero-vault-replica" }), "replicaBucketName"),
            '"acme-velero-vault-replica" is set but replicaRegion is not, so no replica is made. Fix: `pulumi config set gitops-dr:replicaRegion eu-central-1` or `pulumi config rm gitops-dr:replicaBucketName`.',
        );
    });

    it("rejects a replicaBucketName equal to the vault bucket", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { replicaRegion: "eu-central-1", replicaBucketName: "acme-velero-vault" }), "replicaBucketName"),
            '"acme-velero-vault" is the vault bucket itself. Fix: `pulumi config set gitops-dr:replicaBucketName acme-velero-vault-replica`.',
        );
    });

    it("rejects an invalid replicaBucketName", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { replicaRegion: "eu-central-1", replicaBucketName: "Replica" }), "replicaBucketName"),
            '"Replica" is not a valid S3 bucket name. Fix: `pulumi config set gitops-dr:replicaBucketName acme-velero-vault-replica`.',
        );
    });
});

describe("parseConfig: prefixes and source", () => {
    it("rejects a prefix with a leading or trailing slash", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { prefix: "/prod/" }), "prefix"),
            "\"/prod/\" must be path segments of letters, digits and !_.*'()- separated by single slashes, with no leading or trailing slash. Fix: `pulumi config set gitops-dr:prefix prod-eu-1`.",
        );
    });

    it("rejects a prefix in a drill, which writes no backups", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { prefix: "drill-eu-1" }), "prefix"),
            '"drill-eu-1" cannot be set in a drill stack: a drill writes no backups. Fix: `pulumi config rm gitops-dr:prefix`.',
        );
    });

    it("rejects a recover prefix equal to sourcePrefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { prefix: "prod-eu-1" }), "prefix"),
            '"prod-eu-1" is also the sourcePrefix: the recovered cluster would write its new backups over the ones it restores from. Fix: `pulumi config set gitops-dr:prefix prod-eu-1-recovered`.',
        );
    });

    it("rejects a recover stack whose default prefix (clusterName) equals sourcePrefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { clusterName: "prod-eu-1" }), "prefix"),
            '"prod-eu-1" is also the sourcePrefix: the recovered cluster would write its new backups over the ones it restores from. Fix: `pulumi config set gitops-dr:prefix prod-eu-1-recovered`.',
        );
    });

    it("requires sourcePrefix in a drill without sourceStack", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { sourcePrefix: null }), "sourcePrefix"),
            "is required: a drill stack needs the prefix of the backups it restores. Fix: `pulumi config set gitops-dr:sourcePrefix prod-eu-1` or `pulumi config set gitops-dr:sourceStack acme/gitops-dr/prod`.",
        );
    });

    it("rejects an invalid sourcePrefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { sourcePrefix: "prod//eu" }), "sourcePrefix"),
            '"prod//eu" must be path segments separated by single slashes, with no leading or trailing slash. Fix: `pulumi config set gitops-dr:sourcePrefix prod-eu-1`.',
        );
    });

    it("rejects sourceStack in a protect stack", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { sourceStack: "acme/gitops-dr/prod" }), "sourceStack"),
            '"acme/gitops-dr/prod" cannot be set in a protect stack: a protect stack restores nothing. Fix: `pulumi config rm gitops-dr:sourceStack`.',
        );
    });

    it("rejects sourcePrefix in a protect stack", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { sourcePrefix: "prod-eu-1" }), "sourcePrefix"),
            '"prod-eu-1" cannot be set in a protect stack: a protect stack restores nothing. Fix: `pulumi config rm gitops-dr:sourcePrefix`.',
        );
    });
});

describe("parseConfig: credentials", () => {
    const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
    const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const STATIC = withKeys(PROTECT, { credentialsMode: "staticKeys", oidcProviderArn: null });

    it("rejects an unknown credentialsMode", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { credentialsMode: "keys" }), "credentialsMode"),
            '"keys" is not one of irsa, podIdentity, staticKeys. Fix: `pulumi config set gitops-dr:credentialsMode irsa`.',
        );
    });

    it("requires oidcProviderArn with irsa", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { oidcProviderArn: null }), "oidcProviderArn"),
            `is required with credentialsMode irsa. Fix: \`pulumi config set gitops-dr:oidcProviderArn ${OIDC_FIX}\` (aws eks describe-cluster --query cluster.identity.oidc.issuer).`,
        );
    });

    it("rejects an oidcProviderArn that is not an IAM OIDC provider ARN", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { oidcProviderArn: "oidc.eks.eu-west-1.amazonaws.com/id/0123" }), "oidcProviderArn"),
            `"oidc.eks.eu-west-1.amazonaws.com/id/0123" is not an IAM OIDC provider ARN. Fix: \`pulumi config set gitops-dr:oidcProviderArn ${OIDC_FIX}\`.`,
        );
    });

    it("rejects static keys set in plain text without echoing them", () => {
        const error = configError(withKeys(STATIC, { awsAccessKeyId: ACCESS_KEY, awsSecretAccessKey: SECRET_KEY }));
        assert.deepEqual(error.problems, [
            {
                key: "gitops-dr:awsAccessKeyId",
                message: "is set in plain text; it is a credential and must be encrypted. Fix: `pulumi config set --secret gitops-dr:awsAccessKeyId <value>`.",
            },
            {
                key: "gitops-dr:awsSecretAccessKey",
                message: "is set in plain text; it is a credential and must be encrypted. Fix: `pulumi config set --secret gitops-dr:awsSecretAccessKey <value>`.",
            },
        ]);
        assert.ok(!error.message.includes(ACCESS_KEY));
        assert.ok(!error.message.includes(SECRET_KEY));
    });

    it("requires both static keys with staticKeys", () => {
        assert.deepEqual(problemsOf(STATIC), [
            { key: "gitops-dr:awsAccessKeyId", message: "is required. Fix: `pulumi config set --secret gitops-dr:awsAccessKeyId AKIA...`." },
            { key: "gitops-dr:awsSecretAccessKey", message: "is required. Fix: `pulumi config set --secret gitops-dr:awsSecretAccessKey <secret-access-key>`." },
        ]);
    });

    it("rejects access keys set while credentialsMode is irsa", () => {
        assert.deepEqual(problemsOf(withKeys(PROTECT, { awsAccessKeyId: secret(ACCESS_KEY), awsSecretAccessKey: secret(SECRET_KEY) })), [
            {
                key: "gitops-dr:awsAccessKeyId",
                message: "is set but credentialsMode is irsa; unused credentials are a liability. Fix: `pulumi config rm gitops-dr:awsAccessKeyId` or `pulumi config set gitops-dr:credentialsMode staticKeys`.",
            },
            {
                key: "gitops-dr:awsSecretAccessKey",
                message: "is set but credentialsMode is irsa; unused credentials are a liability. Fix: `pulumi config rm gitops-dr:awsSecretAccessKey` or `pulumi config set gitops-dr:credentialsMode staticKeys`.",
            },
        ]);
    });
});

describe("parseConfig: Velero", () => {
    it("requires repoPassword", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { repoPassword: null }), "repoPassword"),
            'is required. Fix: `pulumi config set --secret gitops-dr:repoPassword "$(openssl rand -base64 32)"`.',
        );
    });

    it("rejects a repoPassword set in plain text without echoing it", () => {
        const error = configError(withKeys(PROTECT, { repoPassword: plain(REPO_PASSWORD) }));
        assert.deepEqual(error.problems, [
            {
                key: "gitops-dr:repoPassword",
                message: "is set in plain text; it is a credential and must be encrypted. Fix: `pulumi config set --secret gitops-dr:repoPassword <value>`.",
            },
        ]);
        assert.ok(!error.message.includes(REPO_PASSWORD));
    });

    it("rejects a repoPassword shorter than 16 characters", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { repoPassword: secret("short-pw") }), "repoPassword"),
            'is 8 characters long; kopia\'s repository password must be at least 16. Fix: `pulumi config set --secret gitops-dr:repoPassword "$(openssl rand -base64 32)"`.',
        );
    });

    it("rejects an invalid veleroNamespace", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { veleroNamespace: "Velero_NS" }), "veleroNamespace"),
            '"Velero_NS" is not a valid namespace name (RFC 1123 label). Fix: `pulumi config set gitops-dr:veleroNamespace velero`.',
        );
    });

    it("rejects an invalid veleroReleaseName", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { veleroReleaseName: "Velero" }), "veleroReleaseName"),
            '"Velero" is not a valid Helm release name (lowercase letters, digits, hyphens; at most 53). Fix: `pulumi config set gitops-dr:veleroReleaseName velero`.',
        );
    });

    it("rejects a veleroReleaseName longer than 53 characters", () => {
        const name = "v".repeat(54);
        assert.equal(
            onlyProblem(withKeys(PROTECT, { veleroReleaseName: name }), "veleroReleaseName"),
            `"${name}" is not a valid Helm release name (lowercase letters, digits, hyphens; at most 53). Fix: \`pulumi config set gitops-dr:veleroReleaseName velero\`.`,
        );
    });

    it("rejects an unknown volumeDataMode", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { volumeDataMode: "restic" }), "volumeDataMode"),
            '"restic" is not one of dataMover, nativeSnapshots. Fix: `pulumi config set gitops-dr:volumeDataMode dataMover`.',
        );
    });

    it("rejects an awsPluginVersion off the v1.14 line (v1.13.1 does not pair)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { awsPluginVersion: "v1.13.1" }), "awsPluginVersion"),
            '"v1.13.1" does not pair with Velero 1.18 (chart 12.1.0); the velero-plugin-for-aws compatibility matrix pairs it with the v1.14.x line. Fix: `pulumi config set gitops-dr:awsPluginVersion v1.14.2`.',
        );
    });

    it("rejects an invalid excludedNamespaces entry", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { excludedNamespaces: '["monitoring", "Bad_NS"]' }), "excludedNamespaces"),
            '"Bad_NS" is not a valid namespace name (RFC 1123 label). Fix: correct or remove it from the list in Pulumi.prod.yaml.',
        );
    });
});

describe("parseConfig: schedules", () => {
    const DAILY_FIX = "Fix: `pulumi config set gitops-dr:backupSchedule '0 2 * * *'`.";

    it("rejects a backupSchedule with an hour out of range", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupSchedule: "0 25 * * *" }), "backupSchedule"),
            `"0 25 * * *" is not a valid cron expression (Constraint error, got value 25 expected range 0-23). ${DAILY_FIX}`,
        );
    });

    it("rejects a backupSchedule that is prose", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupSchedule: "every day" }), "backupSchedule"),
            `"every day" has 2 fields; Velero takes 5 (minute hour day-of-month month day-of-week). ${DAILY_FIX}`,
        );
    });

    it("rejects a backupSchedule with 6 fields (seconds)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupSchedule: "0 0 2 * * *" }), "backupSchedule"),
            `"0 0 2 * * *" has 6 fields; Velero takes 5 (minute hour day-of-month month day-of-week). ${DAILY_FIX}`,
        );
    });

    it("rejects a backupTtl in days", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupTtl: "30d" }), "backupTtl"),
            '"30d" is not a Go duration Velero accepts (hours, minutes, seconds; no days). Fix: `pulumi config set gitops-dr:backupTtl 720h`.',
        );
    });

    it("rejects a zero backupTtl", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupTtl: "0h" }), "backupTtl"),
            '"0h" would keep no backup at all. Fix: `pulumi config set gitops-dr:backupTtl 720h`.',
        );
    });

    it("rejects a backupTtl longer than lockDays (744h with lockDays 30)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockDays: "30", backupTtl: "744h" }), "backupTtl"),
            '"744h" (31 days) outlives the Object Lock retention of 30 days: the backup\'s last days would be unlocked and deletable. Fix: `pulumi config set gitops-dr:backupTtl 720h` or raise lockDays to at least 31.',
        );
    });

    it("rejects a default backupTtl (720h) longer than a short lockDays", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockDays: "7" }), "backupTtl"),
            '"720h" (30 days) outlives the Object Lock retention of 7 days: the backup\'s last days would be unlocked and deletable. Fix: `pulumi config set gitops-dr:backupTtl 168h` or raise lockDays to at least 30.',
        );
    });

    it("rejects a weeklyBackupTtl longer than lockDays", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { weeklyBackupTtl: "2160h" }), "weeklyBackupTtl"),
            '"2160h" (90 days) outlives the Object Lock retention of 31 days: the backup\'s last days would be unlocked and deletable. Fix: `pulumi config set gitops-dr:weeklyBackupTtl 744h` or raise lockDays to at least 90.',
        );
    });

    it("rejects a monthlyBackupTtl that is not a Go duration", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { monthlyBackupTtl: "1y" }), "monthlyBackupTtl"),
            '"1y" is not a Go duration Velero accepts (hours, minutes, seconds; no days). Fix: `pulumi config set gitops-dr:monthlyBackupTtl 8760h`.',
        );
    });

    it("rejects a weeklyBackupSchedule without weeklyBackupTtl", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { weeklyBackupSchedule: "0 3 * * 1" }), "weeklyBackupSchedule"),
            '"0 3 * * 1" is set but gitops-dr:weeklyBackupTtl is not, so the weekly tier is off. Fix: `pulumi config set gitops-dr:weeklyBackupTtl 2160h` or `pulumi config rm gitops-dr:weeklyBackupSchedule`.',
        );
    });

    it("rejects a drill configured to write backups (backupSchedule set)", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { backupSchedule: "0 2 * * *" }), "backupSchedule"),
            '"0 2 * * *" cannot be set in a drill stack: a drill is read-only towards the backups and takes none. Fix: `pulumi config rm gitops-dr:backupSchedule`.',
        );
    });

    it("rejects a drill with weeklyBackupTtl set", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { weeklyBackupTtl: "2160h" }), "weeklyBackupTtl"),
            '"2160h" cannot be set in a drill stack: a drill is read-only towards the backups and takes none. Fix: `pulumi config rm gitops-dr:weeklyBackupTtl`.',
        );
    });
});

describe("parseConfig: reporting", () => {
    it("reports a single problem with a singular count line", () => {
        const error = configError(withKeys(PROTECT, { lockMode: "STRICT" }));
        assert.equal(
            error.message,
            'gitops-dr: the stack configuration has 1 problem:\n  - gitops-dr:lockMode: "STRICT" is not one of GOVERNANCE, COMPLIANCE. Fix: `pulumi config set gitops-dr:lockMode COMPLIANCE`.',
        );
    });

    it("reports several bad keys together in one error", () => {
        const error = configError(
            withKeys(PROTECT, { clusterName: null, region: "mars", lockDays: "x", repoPassword: plain(REPO_PASSWORD), lockDay: "30" }),
        );
        assert.deepEqual(
            error.problems.map((p) => p.key),
            ["gitops-dr:lockDay", "gitops-dr:clusterName", "gitops-dr:region", "gitops-dr:lockDays", "gitops-dr:repoPassword"],
        );
        assert.ok(error.message.startsWith("gitops-dr: the stack configuration has 5 problems:\n"), error.message);
        for (const p of error.problems) {
            assert.ok(error.message.includes(`  - ${p.key}: ${p.message}`), `message lacks ${p.key}`);
        }
        assert.ok(!error.message.includes(REPO_PASSWORD));
    });
});

// --- Helpers -----------------------------------------------------------------------------------------------

describe("parseDurationHours", () => {
    it("reads whole hours", () => assert.equal(parseDurationHours("720h"), 720));
    it("reads hours and minutes", () => assert.equal(parseDurationHours("1h30m"), 1.5));
    it("reads minutes and seconds alone", () => assert.equal(parseDurationHours("90m"), 1.5));
    it("rejects days", () => assert.equal(parseDurationHours("30d"), undefined));
    it("rejects the empty string", () => assert.equal(parseDurationHours(""), undefined));
});

describe("cronProblem", () => {
    it("accepts a 5-field expression", () => assert.equal(cronProblem("0 2 * * *"), undefined));
    it("accepts steps and lists", () => assert.equal(cronProblem("*/15 1,13 * * 1-5"), undefined));
    it("accepts @daily", () => assert.equal(cronProblem("@daily"), undefined));
    it("accepts the derived defaults", () => {
        for (const cron of [DERIVED_DEFAULTS.backupSchedule, DERIVED_DEFAULTS.weeklyBackupSchedule, DERIVED_DEFAULTS.monthlyBackupSchedule]) {
            assert.equal(cronProblem(cron), undefined, cron);
        }
    });
    it("rejects 6 fields", () =>
        assert.equal(cronProblem("0 0 2 * * *"), "has 6 fields; Velero takes 5 (minute hour day-of-month month day-of-week)"));
    it("rejects 1 field, in the singular", () =>
        assert.equal(cronProblem("daily"), "has 1 field; Velero takes 5 (minute hour day-of-month month day-of-week)"));
    it("rejects day-of-week 7, which robfig/cron (Velero's parser) does not take", () =>
        assert.equal(cronProblem("0 2 * * 7"), "has a day of week above 6; Velero's cron parser takes 0-6 (Sunday is 0)"));
    it("accepts day names", () => assert.equal(cronProblem("0 3 * * SUN"), undefined));
    for (const expr of ["0 2 L * *", "0 2 * * 5L", "0 2 * * 1#2", "H 2 * * *", "0 2 ? * *"]) {
        it(`rejects the Quartz/Jenkins extension in ${JSON.stringify(expr)}`, () =>
            assert.equal(cronProblem(expr), "uses a character Velero's cron parser does not accept (only digits, names, *, commas, ranges and steps)"));
    }
    it("rejects a value out of range", () =>
        assert.equal(cronProblem("60 2 * * *"), "is not a valid cron expression (Constraint error, got value 60 expected range 0-59)"));
});

describe("isValidBucketName", () => {
    it("accepts a valid name", () => assert.equal(isValidBucketName("acme-velero-vault"), true));
    it("accepts dots", () => assert.equal(isValidBucketName("acme.velero.vault"), true));
    it("rejects uppercase", () => assert.equal(isValidBucketName("Acme-Vault"), false));
    it("rejects an IP address", () => assert.equal(isValidBucketName("192.168.5.4"), false));
    it("rejects adjacent periods", () => assert.equal(isValidBucketName("acme..vault"), false));
    it("rejects fewer than 3 characters", () => assert.equal(isValidBucketName("ab"), false));
    it("rejects more than 63 characters", () => assert.equal(isValidBucketName("a".repeat(64)), false));
    it("rejects the xn-- prefix", () => assert.equal(isValidBucketName("xn--vault"), false));
    it("rejects the -s3alias suffix", () => assert.equal(isValidBucketName("vault-s3alias"), false));
    for (const reserved of ["sthree-vault", "amzn-s3-demo-vault", "vault.mrap", "vault--x-s3", "vault--table-s3", "vault--ol-s3"]) {
        it(`rejects the reserved name ${reserved}`, () => assert.equal(isValidBucketName(reserved), false));
    }
});
