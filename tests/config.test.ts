/**
 * Unit tests of the configuration rules in components/config/, in the style of pulumi/compliance-policies:
 * each mode has a compliant fixture that parses without a warning; every case changes one key of it (or the
 * source stack's outputs) and asserts the exact problem or warning (key and message) that rule reports, so a
 * reworded or dropped rule shows up here. The parsers of values other tools read (Go durations, Velero's cron,
 * bucket names, regions) are pinned against their upstream code in tests/config-values.test.ts.
 */
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import {
    CONFIG_KEYS,
    ConfigError,
    ConfigProblem,
    ConfigWarning,
    DERIVED_DEFAULTS,
    RawConfig,
    RawValue,
    SourceOutputs,
    StackConfig,
    parseConfig,
    parseConfigWithWarnings,
} from "../components/config";
import { VELERO_AWS_PLUGIN } from "../components/versions";
import { PROD_OUTPUTS } from "./fixtures";

// --- Fixtures ----------------------------------------------------------------------------------------------

const STACK = "prod";
const OIDC_ARN = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF";
const KMS_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const REPO_PASSWORD = "kopia-repo-password-0123456789";
const GIT_URL = "https://github.com/acme/platform-gitops.git";
const SOURCE_STACK = "acme/gitops-dr/prod";
const OIDC_FIX = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE";
const KMS_FIX = "arn:aws:kms:eu-west-1:111122223333:key/<key-id>";
const NOT_IN_PROTECT =
    'a protect stack restores only the namespaces named in restoreNamespaces (README, "Recover one namespace")';

const plain = (value: string): RawValue => ({ value, secret: false });
const secret = (value: string): RawValue => ({ value, secret: true });
const BREAK_GLASS = "arn:aws:iam::111122223333:role/vault-break-glass";
const BREAK_GLASS_FIX = `\`pulumi config set --path 'gitops-dr:breakGlassPrincipalArns[0]' ${BREAK_GLASS}\``;

/** A live cluster that creates the vault (createBucket defaults to true, so no kmsKeyArn). */
const PROTECT: RawConfig = {
    mode: plain("protect"),
    clusterName: plain("prod-eu-1"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    oidcProviderArn: plain(OIDC_ARN),
    repoPassword: secret(REPO_PASSWORD),
    gitRepoUrl: plain(GIT_URL),
    breakGlassPrincipalArns: plain(JSON.stringify([BREAK_GLASS])),
};

/** A replacement cluster that restores prod-eu-1's backups from the existing vault, every location given explicitly. */
const RECOVER: RawConfig = {
    mode: plain("recover"),
    clusterName: plain("prod-eu-2"),
    kubeContext: plain("prod-eu-2"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    kmsKeyArn: plain(KMS_ARN),
    sourcePrefix: plain("prod-eu-1"),
    sourceScheduleName: plain("prod-eu-1-daily"),
    restoreId: plain("2026-11-25"),
    oidcProviderArn: plain(OIDC_ARN),
    repoPassword: secret(REPO_PASSWORD),
    gitRepoUrl: plain(GIT_URL),
};

/** The same replacement cluster, with the vault, source prefix and schedule taken from prod's outputs. */
const RECOVER_FROM_STACK: RawConfig = {
    mode: plain("recover"),
    clusterName: plain("prod-eu-2"),
    kubeContext: plain("prod-eu-2"),
    sourceStack: plain(SOURCE_STACK),
    restoreId: plain("2026-11-25"),
    oidcProviderArn: plain(OIDC_ARN),
    repoPassword: secret(REPO_PASSWORD),
    gitRepoUrl: plain(GIT_URL),
};

/** A read-only rebuild test from prod-eu-1's backups, with the vault given explicitly. */
const DRILL: RawConfig = {
    mode: plain("drill"),
    clusterName: plain("drill-eu-1"),
    kubeContext: plain("drill-eu-1"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    kmsKeyArn: plain(KMS_ARN),
    sourcePrefix: plain("prod-eu-1"),
    sourceScheduleName: plain("prod-eu-1-daily"),
    restoreId: plain("2026-11-25"),
    oidcProviderArn: plain(OIDC_ARN),
    repoPassword: secret(REPO_PASSWORD),
    gitRepoUrl: plain(GIT_URL),
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

/** prod's outputs without `key`, as an older or partly failed protect stack would publish them. */
function withoutOutput(key: keyof SourceOutputs): SourceOutputs {
    return Object.fromEntries(Object.entries(PROD_OUTPUTS).filter(([k]) => k !== key));
}

/** The ConfigError `parseConfig` throws for `raw`; fails the test when it parses. */
function configError(raw: RawConfig, stack = STACK, source: SourceOutputs = {}): ConfigError {
    try {
        parseConfig(raw, stack, source);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        return e;
    }
    assert.fail("expected parseConfig to throw a ConfigError");
}

/** Every problem reported for `raw`. */
function problemsOf(raw: RawConfig, stack = STACK, source: SourceOutputs = {}): readonly ConfigProblem[] {
    return configError(raw, stack, source).problems;
}

/** Asserts `raw` has exactly one problem, on `key`, and returns its message. */
function onlyProblem(raw: RawConfig, key: string, stack = STACK, source: SourceOutputs = {}): string {
    const problems = problemsOf(raw, stack, source);
    assert.deepEqual(
        problems.map((p) => p.key),
        [`gitops-dr:${key}`],
        `expected one problem on gitops-dr:${key}, got:\n${problems.map((p) => `${p.key}: ${p.message}`).join("\n")}`,
    );
    return problems[0].message;
}

/** The warnings of a configuration that must parse. */
function warningsOf(raw: RawConfig, stack = STACK, source: SourceOutputs = {}): readonly ConfigWarning[] {
    return parseConfigWithWarnings(raw, stack, source).warnings;
}

/** Asserts `raw` parses with exactly one warning, on `key`, and returns its message. */
function onlyWarning(raw: RawConfig, key: string, stack = STACK, source: SourceOutputs = {}): string {
    const warnings = warningsOf(raw, stack, source);
    assert.deepEqual(
        warnings.map((w) => w.key),
        [`gitops-dr:${key}`],
        `got:\n${warnings.map((w) => `${w.key}: ${w.message}`).join("\n")}`,
    );
    return warnings[0].message;
}

function isDeeplyFrozen(value: unknown, seen = new Set<unknown>()): boolean {
    if (value === null || typeof value !== "object" || pulumi.Output.isInstance(value) || seen.has(value)) {
        return true;
    }
    seen.add(value);
    return Object.isFrozen(value) && Object.values(value).every((v) => isDeeplyFrozen(v, seen));
}

async function isSecretOutput(o: pulumi.Output<string>): Promise<boolean> {
    return pulumi.isSecret(o);
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
        assert.equal(cfg.restore, undefined);
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
        assert.deepEqual(cfg.velero.tiers, [
            { key: "daily", name: "prod-eu-1-daily", cron: "0 2 * * *", ttl: "720h", ttlHours: 720 },
        ]);
        assert.deepEqual(cfg.velero.excludedNamespaces, []);
        assert.deepEqual(cfg.velero.dataMoverNodeLabels, {});
        assert.deepEqual(cfg.velero.fileSystemBackupVolumeTypes, ["local", "nfs"]);
        assert.equal(cfg.argoCd.namespace, "argocd");
        assert.deepEqual(
            { ...cfg.argoCd.repository },
            {
                url: GIT_URL,
                path: "apps",
                revision: "HEAD",
                username: undefined,
                password: undefined,
                sshPrivateKey: undefined,
            },
        );
        assert.deepEqual(cfg.argoCd.newAppVolumes, []);
        assert.deepEqual(cfg.monitoring, { prometheusOperator: false, labels: {} });
    });

    it("parses the recover fixture: its own prefix and daily tier, the source, the restore defaults", () => {
        const cfg = parseConfig(RECOVER, "recover");
        assert.equal(cfg.mode, "recover");
        assert.equal(cfg.prefix, "prod-eu-2");
        assert.deepEqual(cfg.source, {
            stack: undefined,
            prefix: "prod-eu-1",
            scheduleName: "prod-eu-1-daily",
            credentialsScheduleName: "prod-eu-1-credentials",
        });
        assert.equal(cfg.vault.create, false);
        assert.equal(cfg.vault.kmsKeyArn, KMS_ARN);
        assert.deepEqual(cfg.velero.tiers, [
            { key: "daily", name: "prod-eu-2-daily", cron: "0 2 * * *", ttl: "720h", ttlHours: 720 },
        ]);
        assert.deepEqual(cfg.restore, {
            id: "2026-11-25",
            backupName: undefined,
            acceptPartiallyFailedBackup: false,
            acceptPartiallyFailedRestore: false,
            acceptOlderBackup: false,
            acceptRestoreWarnings: false,
            namespaces: [],
            namespaceMappings: {},
            storageClassMappings: {},
            backupCheckTimeoutMinutes: DERIVED_DEFAULTS.backupCheckTimeoutMinutes,
            restoreTimeoutMinutes: DERIVED_DEFAULTS.restoreTimeoutMinutes,
        });
    });

    it("parses the drill fixture: no prefix and no backup tiers", () => {
        const cfg = parseConfig(DRILL, "drill");
        assert.equal(cfg.mode, "drill");
        assert.equal(cfg.prefix, undefined);
        assert.deepEqual(cfg.source, {
            stack: undefined,
            prefix: "prod-eu-1",
            scheduleName: "prod-eu-1-daily",
            credentialsScheduleName: "prod-eu-1-credentials",
        });
        assert.equal(cfg.vault.create, false);
        assert.deepEqual(cfg.velero.tiers, []);
        assert.equal(cfg.restore?.id, "2026-11-25");
    });

    it("fills the vault, source prefix and schedule from the source stack's outputs", () => {
        const cfg = parseConfig(RECOVER_FROM_STACK, "recover", PROD_OUTPUTS);
        assert.deepEqual(cfg.source, {
            stack: SOURCE_STACK,
            prefix: PROD_OUTPUTS.prefix,
            scheduleName: PROD_OUTPUTS.dailyScheduleName,
            credentialsScheduleName: PROD_OUTPUTS.credentialsScheduleName,
        });
        assert.equal(cfg.vault.bucketName, PROD_OUTPUTS.bucketName);
        assert.equal(cfg.vault.region, PROD_OUTPUTS.region);
        assert.equal(cfg.vault.kmsKeyArn, PROD_OUTPUTS.kmsKeyArn);
    });

    it("lets explicit keys win over the source stack's outputs", () => {
        const cfg = parseConfig(
            withKeys(RECOVER_FROM_STACK, {
                bucketName: "acme-other-vault",
                kmsKeyArn: KMS_ARN,
                sourcePrefix: "prod-eu-3",
                sourceScheduleName: "prod-eu-3-daily",
            }),
            "recover",
            PROD_OUTPUTS,
        );
        assert.equal(cfg.vault.bucketName, "acme-other-vault");
        assert.equal(cfg.vault.kmsKeyArn, KMS_ARN);
        assert.equal(cfg.vault.region, PROD_OUTPUTS.region, "unset keys still come from the outputs");
        assert.deepEqual(cfg.source, {
            stack: SOURCE_STACK,
            prefix: "prod-eu-3",
            scheduleName: "prod-eu-3-daily",
            credentialsScheduleName: "prod-eu-3-credentials",
        });
    });

    it("raises no warning for any fixture", () => {
        assert.deepEqual(warningsOf(PROTECT), []);
        assert.deepEqual(warningsOf(RECOVER, "recover"), []);
        assert.deepEqual(warningsOf(RECOVER_FROM_STACK, "recover", PROD_OUTPUTS), []);
        assert.deepEqual(warningsOf(DRILL, "drill"), []);
    });

    it("lets a drill keep the source cluster's name (it takes no backups, so no Schedule can clash)", () => {
        const cfg = parseConfig(
            withKeys(DRILL, { clusterName: PROD_OUTPUTS.clusterName, sourceStack: SOURCE_STACK }),
            "drill",
            PROD_OUTPUTS,
        );
        assert.equal(cfg.clusterName, PROD_OUTPUTS.clusterName);
    });

    it("returns a deeply frozen configuration", () => {
        const cfg: StackConfig = parseConfig(
            withKeys(PROTECT, {
                storageTransitions: '["STANDARD_IA:30"]',
                replicaRegion: "eu-central-1",
                excludedNamespaces: '["scratch"]',
                prometheusOperator: "true",
                monitoringLabels: '["release=kube-prometheus-stack"]',
            }),
            STACK,
        );
        assert.ok(Object.isFrozen(cfg));
        assert.ok(Object.isFrozen(cfg.vault.transitions));
        assert.ok(Object.isFrozen(cfg.vault.replica));
        assert.ok(Object.isFrozen(cfg.velero.tiers[0]));
        assert.ok(Object.isFrozen(cfg.monitoring.labels));
        assert.ok(isDeeplyFrozen(cfg));
        assert.ok(isDeeplyFrozen(parseConfig(withKeys(RECOVER, { storageClassMappings: '["gp2=gp3"]' }), "recover")));
    });

    it("returns repoPassword as a secret Output", async () => {
        const cfg = parseConfig(PROTECT, STACK);
        assert.ok(pulumi.Output.isInstance(cfg.velero.repoPassword));
        assert.equal(await isSecretOutput(cfg.velero.repoPassword), true);
    });

    it("returns static access keys and git credentials as secret Outputs", async () => {
        const cfg = parseConfig(
            withKeys(PROTECT, {
                credentialsMode: "staticKeys",
                oidcProviderArn: null,
                awsAccessKeyId: secret("AKIAIOSFODNN7EXAMPLE"),
                awsSecretAccessKey: secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                gitUsername: "git",
                gitPassword: secret("ghp_exampletoken0123456789"),
            }),
            STACK,
        );
        assert.equal(cfg.credentials.mode, "staticKeys");
        assert.ok(cfg.credentials.mode === "staticKeys" && cfg.credentials.keys !== "create");
        assert.equal(await isSecretOutput(cfg.credentials.keys.accessKeyId), true);
        assert.equal(await isSecretOutput(cfg.credentials.keys.secretAccessKey), true);
        assert.equal(cfg.argoCd.repository.username, "git");
        assert.equal(await isSecretOutput(cfg.argoCd.repository.password!), true);
    });

    it("takes an ssh repository with its deploy key", async () => {
        const cfg = parseConfig(
            withKeys(PROTECT, {
                gitRepoUrl: "git@github.com:acme/platform-gitops.git",
                gitSshPrivateKey: secret("-----BEGIN OPENSSH PRIVATE KEY-----"),
            }),
            STACK,
        );
        assert.equal(cfg.argoCd.repository.url, "git@github.com:acme/platform-gitops.git");
        assert.equal(await isSecretOutput(cfg.argoCd.repository.sshPrivateKey!), true);
    });

    it("defaults eksClusterName to clusterName with credentialsMode podIdentity", () => {
        const cfg = parseConfig(
            withKeys(PROTECT, { credentialsMode: "podIdentity", oidcProviderArn: null, clusterRegion: "eu-central-1" }),
            STACK,
        );
        assert.deepEqual(cfg.credentials, {
            mode: "podIdentity",
            eksClusterName: "prod-eu-1",
            clusterRegion: "eu-central-1",
        });
    });

    it("parses storage transitions in S3's order", () => {
        const cfg = parseConfig(
            withKeys(PROTECT, { storageTransitions: '["STANDARD_IA:30", "GLACIER_IR:60"]' }),
            STACK,
        );
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
            {
                key: "daily",
                name: "prod-eu-1-daily",
                cron: DERIVED_DEFAULTS.backupSchedule,
                ttl: DERIVED_DEFAULTS.backupTtl,
                ttlHours: 720,
            },
            {
                key: "weekly",
                name: "prod-eu-1-weekly",
                cron: DERIVED_DEFAULTS.weeklyBackupSchedule,
                ttl: "2160h",
                ttlHours: 2160,
            },
        ]);
    });

    it("takes the Go durations and cron forms Velero takes (36.5h; CRON_TZ=, names)", () => {
        const cfg = parseConfig(
            withKeys(PROTECT, { backupTtl: "36.5h", backupSchedule: "CRON_TZ=Europe/Paris 30 1 * * MON-FRI" }),
            STACK,
        );
        assert.deepEqual(cfg.velero.tiers, [
            {
                key: "daily",
                name: "prod-eu-1-daily",
                cron: "CRON_TZ=Europe/Paris 30 1 * * MON-FRI",
                ttl: "36.5h",
                ttlHours: 36.5,
            },
        ]);
    });

    it("accepts an awsPluginVersion on the v1.14 line (v1.14.9)", () => {
        assert.equal(
            parseConfig(withKeys(PROTECT, { awsPluginVersion: "v1.14.9" }), STACK).velero.awsPluginVersion,
            "v1.14.9",
        );
    });

    it("accepts a backupTtl equal to lockDays (720h with lockDays 30)", () => {
        assert.equal(
            parseConfig(withKeys(PROTECT, { lockDays: "30", backupTtl: "720h" }), STACK).velero.tiers[0].ttlHours,
            720,
        );
    });

    it("accepts COMPLIANCE lockDays of 366 without acknowledgement, and above it with the matching one", () => {
        assert.equal(parseConfig(withKeys(PROTECT, { lockDays: "366" }), STACK).vault.lockDays, 366);
        assert.equal(
            parseConfig(withKeys(PROTECT, { lockDays: "400", complianceLockDaysAcknowledged: "400" }), STACK).vault
                .lockDays,
            400,
        );
        assert.deepEqual(warningsOf(withKeys(PROTECT, { lockDays: "400", complianceLockDaysAcknowledged: "400" })), []);
    });

    it("accepts GOVERNANCE lockDays up to 3650 without acknowledgement", () => {
        assert.equal(
            parseConfig(withKeys(PROTECT, { lockMode: "GOVERNANCE", lockDays: "3650" }), STACK).vault.lockDays,
            3650,
        );
    });

    it("accepts, with allowUnlistedRegion, a region newer than the pinned provider", () => {
        const cfg = parseConfig(withKeys(PROTECT, { allowUnlistedRegion: "true", region: "eusc-de-west-1" }), STACK);
        assert.equal(cfg.vault.region, "eusc-de-west-1");
    });

    it("parses the restore keys", () => {
        const cfg = parseConfig(
            withKeys(RECOVER, {
                restoreBackupName: "prod-eu-1-daily-20261124020000",
                acceptPartiallyFailedBackup: "true",
                restoreNamespaces: '["shop", "billing"]',
                storageClassMappings: '["gp2=gp3", "io1=io2"]',
                backupCheckTimeoutMinutes: "30",
                restoreTimeoutMinutes: "600",
            }),
            "recover",
        );
        assert.deepEqual(cfg.restore, {
            id: "2026-11-25",
            backupName: "prod-eu-1-daily-20261124020000",
            acceptPartiallyFailedBackup: true,
            acceptPartiallyFailedRestore: false,
            acceptOlderBackup: false,
            acceptRestoreWarnings: false,
            namespaces: ["shop", "billing"],
            namespaceMappings: {},
            storageClassMappings: { gp2: "gp3", io1: "io2" },
            backupCheckTimeoutMinutes: 30,
            restoreTimeoutMinutes: 600,
        });
    });

    it("does without sourceScheduleName when restoreBackupName names the backup", () => {
        const cfg = parseConfig(
            withKeys(RECOVER, { sourceScheduleName: null, restoreBackupName: "prod-eu-1-daily-20261124020000" }),
            "recover",
        );
        assert.equal(cfg.restore?.backupName, "prod-eu-1-daily-20261124020000");
    });

    it("parses monitoring labels and data-mover node labels", () => {
        const cfg = parseConfig(
            withKeys(PROTECT, {
                prometheusOperator: "true",
                monitoringLabels: '["release=kube-prometheus-stack"]',
                dataMoverNodeLabels: '["topology.kubernetes.io/zone=eu-west-1a"]',
            }),
            STACK,
        );
        assert.deepEqual(cfg.monitoring, { prometheusOperator: true, labels: { release: "kube-prometheus-stack" } });
        assert.deepEqual(cfg.velero.dataMoverNodeLabels, { "topology.kubernetes.io/zone": "eu-west-1a" });
    });
});

// --- One rule per case -------------------------------------------------------------------------------------

describe("parseConfig: unknown keys", () => {
    it("reports a misspelt key with the closest known one", () => {
        assert.deepEqual(problemsOf(withKeys(PROTECT, { lockDay: "30" })), [
            {
                key: "gitops-dr:lockDay",
                message:
                    "is not a gitops-dr setting; did you mean gitops-dr:lockDays? Remove it with `pulumi config rm gitops-dr:lockDay`.",
            },
        ]);
    });

    it("suggests a key whatever the case of the typo (restoreid)", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { restoreid: "x" }), "restoreid", "recover"),
            "is not a gitops-dr setting; did you mean gitops-dr:restoreId? Remove it with `pulumi config rm gitops-dr:restoreid`.",
        );
    });

    it("reports an unknown key with no close match without a hint", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { completelyUnrelatedSetting: "x" }), "completelyUnrelatedSetting"),
            "is not a gitops-dr setting; Remove it with `pulumi config rm gitops-dr:completelyUnrelatedSetting`.",
        );
    });
});

describe("parseConfig: booleans", () => {
    for (const value of ["yes", "1", "True"]) {
        it(`refuses ${JSON.stringify(value)}: only true and false are booleans`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { createBucket: value }), "createBucket"),
                `${JSON.stringify(value)} is not a boolean; only true and false are. Fix: \`pulumi config set gitops-dr:createBucket true\`.`,
            );
        });
    }

    it("suggests the opposite of a boolean's default (prometheusOperator defaults to false)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { prometheusOperator: "on" }), "prometheusOperator"),
            '"on" is not a boolean; only true and false are. Fix: `pulumi config set gitops-dr:prometheusOperator true`.',
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

    for (const name of ["Prod_EU", "a".repeat(41)]) {
        it(`rejects the clusterName ${JSON.stringify(name.length > 20 ? `${name.length} characters` : name)}`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { clusterName: name }), "clusterName"),
                `"${name}" must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit (it names IAM roles and Schedules). Fix: \`pulumi config set gitops-dr:clusterName prod-eu-1\`.`,
            );
        });
    }
});

describe("parseConfig: where the vault is", () => {
    const REGION_FIX = "Fix: `pulumi config set gitops-dr:region eu-west-1`.";

    it("requires region in protect", () => {
        assert.equal(onlyProblem(withKeys(PROTECT, { region: null }), "region"), `is required. ${REGION_FIX}`);
    });

    it("requires region in a drill without sourceStack", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { region: null }), "region", "drill"),
            `is required (or set sourceStack). ${REGION_FIX}`,
        );
    });

    it("requires region when the source stack has no region output", () => {
        assert.equal(
            onlyProblem(RECOVER_FROM_STACK, "region", "recover", withoutOutput("region")),
            `is required (the source stack ${SOURCE_STACK} has no region output). ${REGION_FIX}`,
        );
    });

    it("rejects a misspelt region with the closest region the provider knows (eu-wset-1)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { region: "eu-wset-1" }), "region"),
            `"eu-wset-1" is not an AWS region the pinned @pulumi/aws knows; did you mean eu-west-1? (A region newer than the provider: set gitops-dr:allowUnlistedRegion true.) ${REGION_FIX}`,
        );
    });

    it("blames a misspelt region alone, not also the kmsKeyArn of the region meant", () => {
        assert.deepEqual(
            problemsOf(withKeys(RECOVER, { region: "eu-wset-1" }), "recover").map((p) => p.key),
            ["gitops-dr:region"],
        );
    });

    it("still checks the shape of a region with allowUnlistedRegion (an Availability Zone is not a region)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { allowUnlistedRegion: "true", region: "eu-west-1a" }), "region"),
            `"eu-west-1a" is not shaped like an AWS region (e.g. eu-west-1). ${REGION_FIX}`,
        );
    });

    it("names the source stack's output when its region is not a region", () => {
        assert.equal(
            onlyProblem(RECOVER_FROM_STACK, "region", "recover", { ...PROD_OUTPUTS, region: "eu-wset-1" }),
            `the source stack ${SOURCE_STACK}'s output region is not an AWS region the pinned @pulumi/aws knows; did you mean eu-west-1? (A region newer than the provider: set gitops-dr:allowUnlistedRegion true.) ${REGION_FIX}`,
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
            onlyProblem(withKeys(DRILL, { bucketName: null }), "bucketName", "drill"),
            "is required: a drill stack needs the source bucket. Fix: `pulumi config set gitops-dr:sourceStack acme/gitops-dr/prod` or `pulumi config set gitops-dr:bucketName acme-velero-vault`.",
        );
    });

    it("rejects an invalid bucketName", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { bucketName: "Acme_Vault" }), "bucketName"),
            '"Acme_Vault" is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit). Fix: `pulumi config set gitops-dr:bucketName acme-velero-vault`.',
        );
    });

    it("names the source stack's output when its bucketName is invalid", () => {
        assert.equal(
            onlyProblem(RECOVER_FROM_STACK, "bucketName", "recover", { ...PROD_OUTPUTS, bucketName: "Acme_Vault" }),
            `the source stack ${SOURCE_STACK}'s output bucketName is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit). Fix: \`pulumi config set gitops-dr:bucketName acme-velero-vault\`.`,
        );
    });

    it("rejects a sourceStack that is not a stack name", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { sourceStack: "acme/gitops-dr/prod/extra" }), "sourceStack", "recover"),
            '"acme/gitops-dr/prod/extra" is not a stack name. Fix: `pulumi config set gitops-dr:sourceStack acme/gitops-dr/prod`.',
        );
    });

    for (const [mode, base] of [
        ["recover", RECOVER],
        ["drill", DRILL],
    ] as const) {
        for (const value of ["true", "false"]) {
            it(`rejects createBucket ${value} in a ${mode} stack`, () => {
                assert.equal(
                    onlyProblem(withKeys(base, { createBucket: value }), "createBucket", mode),
                    `"${value}" cannot be set in a ${mode} stack: it never creates a bucket; it reads the existing vault. Fix: \`pulumi config rm gitops-dr:createBucket\`.`,
                );
            });
        }
    }

    it("rejects a kmsKeyArn that is not a KMS key ARN", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { kmsKeyArn: "arn:aws:kms:eu-west-1:1234:key/abc" }), "kmsKeyArn", "recover"),
            `"arn:aws:kms:eu-west-1:1234:key/abc" is not a KMS key ARN (an alias cannot be granted in IAM or matched by the bucket policy). Fix: \`pulumi config set gitops-dr:kmsKeyArn ${KMS_FIX}\`.`,
        );
    });

    for (const alias of ["alias/acme-velero-vault", "arn:aws:kms:eu-west-1:111122223333:alias/acme-velero-vault"]) {
        it(`rejects a key alias as kmsKeyArn and says how to read its ARN: ${alias}`, () => {
            assert.equal(
                onlyProblem(withKeys(RECOVER, { kmsKeyArn: alias }), "kmsKeyArn", "recover"),
                `"${alias}" is a key alias; IAM and the bucket policy grant on the key's ARN, never an alias. Fix: read the ARN with \`aws kms describe-key --key-id ${alias} --region eu-west-1 --query KeyMetadata.Arn --output text\` and \`pulumi config set gitops-dr:kmsKeyArn <that ARN>\`.`,
            );
        });
    }

    it("rejects a kmsKeyArn in another region than the vault", () => {
        assert.equal(
            onlyProblem(
                withKeys(RECOVER, { kmsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/abc" }),
                "kmsKeyArn",
                "recover",
            ),
            '"arn:aws:kms:eu-central-1:111122223333:key/abc" is a key in eu-central-1, but the vault is in eu-west-1; S3 encrypts only with a KMS key in the bucket\'s region. Fix: `pulumi config set gitops-dr:kmsKeyArn arn:aws:kms:eu-west-1:111122223333:key/<key-id>`.',
        );
    });

    it("rejects the source stack's kmsKeyArn when an explicit region moves the vault elsewhere", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER_FROM_STACK, { region: "eu-central-1" }), "kmsKeyArn", "recover", PROD_OUTPUTS),
            `the source stack ${SOURCE_STACK}'s output kmsKeyArn is a key in eu-west-1, but the vault is in eu-central-1; S3 encrypts only with a KMS key in the bucket's region. Fix: \`pulumi config set gitops-dr:kmsKeyArn arn:aws:kms:eu-central-1:111122223333:key/<key-id>\`.`,
        );
    });

    it("names the source stack's output when its kmsKeyArn is an alias", () => {
        assert.equal(
            onlyProblem(RECOVER_FROM_STACK, "kmsKeyArn", "recover", {
                ...PROD_OUTPUTS,
                kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:alias/vault",
            }),
            `the source stack ${SOURCE_STACK}'s output kmsKeyArn is a key alias; IAM and the bucket policy grant on the key's ARN, never an alias. Fix: read the ARN with \`aws kms describe-key --key-id arn:aws:kms:eu-west-1:111122223333:alias/vault --region eu-west-1 --query KeyMetadata.Arn --output text\` and \`pulumi config set gitops-dr:kmsKeyArn <that ARN>\`.`,
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
            onlyProblem(withKeys(RECOVER, { kmsKeyArn: null }), "kmsKeyArn", "recover"),
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

    for (const value of ["thirty", "30.5"]) {
        it(`rejects the lockDays ${JSON.stringify(value)}, not a whole number`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { lockDays: value }), "lockDays"),
                `${JSON.stringify(value)} is not a whole number. Fix: \`pulumi config set gitops-dr:lockDays 31\`.`,
            );
        });
    }

    for (const value of ["0", "3651"]) {
        it(`rejects the lockDays ${value}, outside 1-3650`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { lockMode: "GOVERNANCE", lockDays: value }), "lockDays"),
                `${value} is out of range; it must be between 1 and 3650. Fix: \`pulumi config set gitops-dr:lockDays 31\`.`,
            );
        });
    }

    it("rejects COMPLIANCE lockDays above 366 without complianceLockDaysAcknowledged", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockDays: "400" }), "lockDays"),
            "400 days in COMPLIANCE mode: every object written is then undeletable, and billed, for 1.1 years, by anyone including the account root, and nothing can shorten it. Fix: `pulumi config set gitops-dr:lockDays 31`, or confirm with `pulumi config set gitops-dr:complianceLockDaysAcknowledged 400`.",
        );
    });

    it("rejects a complianceLockDaysAcknowledged that is not lockDays", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { lockDays: "730", complianceLockDaysAcknowledged: "400" }), "lockDays"),
            "730 days in COMPLIANCE mode: every object written is then undeletable, and billed, for 2 years, by anyone including the account root, and nothing can shorten it. Fix: `pulumi config set gitops-dr:lockDays 31`, or confirm with `pulumi config set gitops-dr:complianceLockDaysAcknowledged 730`.",
        );
    });

    it("warns that complianceLockDaysAcknowledged does nothing at 366 days or less", () => {
        assert.equal(
            onlyWarning(withKeys(PROTECT, { complianceLockDaysAcknowledged: "31" }), "complianceLockDaysAcknowledged"),
            '"31" is ignored: it only confirms COMPLIANCE retention above 366 days. Remove it with `pulumi config rm gitops-dr:complianceLockDaysAcknowledged`.',
        );
    });

    it("warns that complianceLockDaysAcknowledged does nothing in GOVERNANCE mode", () => {
        const warnings = warningsOf(
            withKeys(PROTECT, { lockMode: "GOVERNANCE", lockDays: "400", complianceLockDaysAcknowledged: "400" }),
        );
        assert.deepEqual(
            warnings.map((w) => w.key),
            ["gitops-dr:lockMode", "gitops-dr:complianceLockDaysAcknowledged"],
        );
        assert.equal(
            warnings[1].message,
            '"400" is ignored: it only confirms COMPLIANCE retention above 366 days. Remove it with `pulumi config rm gitops-dr:complianceLockDaysAcknowledged`.',
        );
    });

    it("warns on every run that GOVERNANCE can be lifted, and accepts it", () => {
        const raw = withKeys(PROTECT, { lockMode: "GOVERNANCE" });
        assert.equal(parseConfig(raw, STACK).vault.lockMode, "GOVERNANCE");
        assert.equal(
            onlyWarning(raw, "lockMode"),
            "GOVERNANCE: any principal with s3:BypassGovernanceRetention can delete a locked backup, so the vault does not protect backups from a stolen administrator credential; the policy pack refuses it unless its vault-bucket-object-lock policy sets requireCompliance false. Fix: `pulumi config set gitops-dr:lockMode COMPLIANCE` once lockDays is right.",
        );
    });

    it("rejects a noncurrentVersionExpirationDays shorter than lockDays", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { noncurrentVersionExpirationDays: "10" }),
                "noncurrentVersionExpirationDays",
            ),
            "10 is shorter than lockDays (31): S3 would try to expire versions that are still locked, and storage would be billed as if they were gone. Fix: `pulumi config set gitops-dr:noncurrentVersionExpirationDays 31` or leave it unset to follow lockDays.",
        );
    });

    it("rejects an abortIncompleteMultipartUploadDays out of range", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { abortIncompleteMultipartUploadDays: "366" }),
                "abortIncompleteMultipartUploadDays",
            ),
            "366 is out of range; it must be between 1 and 365. Fix: `pulumi config set gitops-dr:abortIncompleteMultipartUploadDays 7`.",
        );
    });
});

describe("parseConfig: storageTransitions", () => {
    const transitions = (value: string) =>
        onlyProblem(withKeys(PROTECT, { storageTransitions: value }), "storageTransitions");
    const LIST_FIX = "`pulumi config set --path 'gitops-dr:storageTransitions[0]' STANDARD_IA:30`";

    it("rejects an entry that is not STORAGE_CLASS:days", () => {
        assert.equal(
            transitions('["STANDARD_IA-30"]'),
            `"STANDARD_IA-30" is not "STORAGE_CLASS:days". Fix: ${LIST_FIX}.`,
        );
    });

    for (const [storageClass, why] of [
        [
            "GLACIER",
            "archived objects cannot be read by Velero or kopia until restored by hand, which stalls a recovery",
        ],
        [
            "DEEP_ARCHIVE",
            "archived objects cannot be read by Velero or kopia until restored by hand, which stalls a recovery",
        ],
        ["ONEZONE_IA", "it keeps the data in a single Availability Zone, which weakens the backup"],
        ["STANDARD", "objects start in STANDARD; list only the classes they move to"],
        ["COLD", "it is not an S3 storage class"],
    ]) {
        it(`rejects ${storageClass}: ${why}`, () => {
            assert.equal(
                transitions(`["${storageClass}:90"]`),
                `"${storageClass}:90": ${storageClass} is not allowed: ${why}. Use STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR.`,
            );
        });
    }

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
            `"STANDARD_IA:30" is not a list of strings. Fix: set it as a YAML list in Pulumi.prod.yaml, or ${LIST_FIX}.`,
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

    it("rejects a misspelt replicaRegion with the closest region", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { replicaRegion: "eu-centrl-1" }), "replicaRegion"),
            '"eu-centrl-1" is not an AWS region the pinned @pulumi/aws knows; did you mean eu-central-1? (A region newer than the provider: set gitops-dr:allowUnlistedRegion true.) Fix: `pulumi config set gitops-dr:replicaRegion eu-central-1`.',
        );
    });

    it("rejects a replicaRegion in a stack that does not create the vault", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { createBucket: "false", kmsKeyArn: KMS_ARN, replicaRegion: "eu-central-1" }),
                "replicaRegion",
            ),
            '"eu-central-1": only the stack that creates the vault configures its replica. Fix: `pulumi config rm gitops-dr:replicaRegion`.',
        );
    });

    for (const key of ["replicaRegion", "replicaBucketName"]) {
        it(`rejects ${key} in a recover stack`, () => {
            assert.equal(
                onlyProblem(withKeys(RECOVER, { [key]: "eu-central-1" }), key, "recover"),
                `"eu-central-1" cannot be set in a recover stack: only the stack that creates the vault configures its replica. Fix: \`pulumi config rm gitops-dr:${key}\`.`,
            );
        });
    }

    it("rejects a replicaBucketName without replicaRegion", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { replicaBucketName: "acme-velero-vault-replica" }), "replicaBucketName"),
            '"acme-velero-vault-replica" is set but replicaRegion is not, so no replica is made. Fix: `pulumi config set gitops-dr:replicaRegion eu-central-1` or `pulumi config rm gitops-dr:replicaBucketName`.',
        );
    });

    it("rejects a replicaBucketName equal to the vault bucket", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { replicaRegion: "eu-central-1", replicaBucketName: "acme-velero-vault" }),
                "replicaBucketName",
            ),
            '"acme-velero-vault" is the vault bucket itself. Fix: `pulumi config set gitops-dr:replicaBucketName acme-velero-vault-replica`.',
        );
    });

    it("rejects an invalid replicaBucketName", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { replicaRegion: "eu-central-1", replicaBucketName: "Replica" }),
                "replicaBucketName",
            ),
            '"Replica" is not a valid S3 bucket name (at most 63 characters; the default is <bucketName>-replica). Fix: `pulumi config set gitops-dr:replicaBucketName acme-velero-vault-replica`.',
        );
    });

    it("one typo, one problem: a misspelt bucketName does not also report the replica name derived from it", () => {
        const typo = withKeys(PROTECT, { replicaRegion: "eu-central-1", bucketName: null, bucketNmae: "acme-vault" });
        const problems = problemsOf(typo);
        assert.deepEqual(problems.map((p) => p.key).sort(), ["gitops-dr:bucketName", "gitops-dr:bucketNmae"]);
        // An invalid bucketName is reported once, as bucketName's problem.
        const invalid = withKeys(PROTECT, { replicaRegion: "eu-central-1", bucketName: "Acme_Vault" });
        assert.deepEqual(
            problemsOf(invalid).map((p) => p.key),
            ["gitops-dr:bucketName"],
        );
    });

    it("rejects a default replica bucket name that the -replica suffix makes too long", () => {
        const bucketName = "b".repeat(60);
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, {
                    bucketName,
                    replicaRegion: "eu-central-1",
                    auditBucketName: "acme-velero-vault-audit",
                }),
                "replicaBucketName",
            ),
            `"${bucketName}-replica" is not a valid S3 bucket name (at most 63 characters; the default is <bucketName>-replica). Fix: \`pulumi config set gitops-dr:replicaBucketName acme-velero-vault-replica\`.`,
        );
    });
});

describe("parseConfig: prefixes and source", () => {
    const overlap = (prefix: string, from: string, sourcePrefix: string, suggestion = "prod-eu-2") =>
        `"${prefix}" overlaps the source prefix ${from}: the recovered cluster's writer role could delete or overwrite the backups it restores from. Fix: \`pulumi config set gitops-dr:prefix ${suggestion}\`, or any prefix outside "${sourcePrefix}".`;

    it("rejects a prefix with a leading or trailing slash", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { prefix: "/prod/" }), "prefix"),
            '"/prod/" must be path segments of letters, digits and !_.\'()- separated by single slashes, with no leading or trailing slash. Fix: `pulumi config set gitops-dr:prefix prod-eu-1`.',
        );
    });

    for (const [value, wildcard] of [
        ["prod-eu-*", "*"],
        ["prod-eu-?", "?"],
    ]) {
        it(`rejects the prefix ${value}: ${wildcard} is an IAM wildcard reaching other clusters' backups`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { prefix: value }), "prefix"),
                `"${value}" contains ${wildcard}, a wildcard in the IAM policies the prefix is written into: it would reach every prefix it matches, other clusters' backups included. Fix: \`pulumi config set gitops-dr:prefix prod-eu-1\`.`,
            );
        });
    }

    it("rejects a sourcePrefix with a wildcard, set or read from the source stack", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { sourcePrefix: "prod-*" }), "sourcePrefix", "drill"),
            `"prod-*" contains *, a wildcard in the IAM policies the prefix is written into: it would reach every prefix it matches, other clusters' backups included. Fix: \`pulumi config set gitops-dr:sourcePrefix prod-eu-1\`.`,
        );
    });

    it("rejects a prefix in a drill, which writes no backups", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { prefix: "drill-eu-1" }), "prefix", "drill"),
            '"drill-eu-1" cannot be set in a drill stack: a drill writes no backups. Fix: `pulumi config rm gitops-dr:prefix`.',
        );
    });

    it("rejects a recover prefix equal to sourcePrefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { prefix: "prod-eu-1" }), "prefix", "recover"),
            overlap("prod-eu-1", '"prod-eu-1"', "prod-eu-1"),
        );
    });

    it("rejects a recover prefix that is a parent of sourcePrefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { prefix: "prod", sourcePrefix: "prod/eu-1" }), "prefix", "recover"),
            overlap("prod", '"prod/eu-1"', "prod/eu-1"),
        );
    });

    it("rejects a recover prefix under sourcePrefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { prefix: "prod-eu-1/recovered" }), "prefix", "recover"),
            overlap("prod-eu-1/recovered", '"prod-eu-1"', "prod-eu-1"),
        );
    });

    it("accepts a recover prefix that merely starts with the same letters (prod-eu-10 next to prod-eu-1)", () => {
        assert.equal(parseConfig(withKeys(RECOVER, { prefix: "prod-eu-10" }), "recover").prefix, "prod-eu-10");
    });

    it("rejects a recover prefix under the source stack's output prefix, naming the output", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER_FROM_STACK, { prefix: "prod-eu-1/new" }), "prefix", "recover", PROD_OUTPUTS),
            overlap("prod-eu-1/new", `"prod-eu-1" (the source stack ${SOURCE_STACK}'s output prefix)`, "prod-eu-1"),
        );
    });

    it("rejects a recover stack whose default prefix (clusterName) is sourcePrefix, suggesting a new prefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { clusterName: "prod-eu-1" }), "prefix", "recover"),
            overlap("prod-eu-1", '"prod-eu-1"', "prod-eu-1", "prod-eu-1-r1"),
        );
    });

    it("rejects a recover clusterName equal to the source's clusterName", () => {
        assert.equal(
            onlyProblem(
                withKeys(RECOVER_FROM_STACK, { clusterName: "prod-eu-1", prefix: "prod-eu-1-r1" }),
                "clusterName",
                "recover",
                PROD_OUTPUTS,
            ),
            `"prod-eu-1" is the lost cluster's name (the source stack ${SOURCE_STACK}'s output clusterName): the new cluster's Schedules would carry the same names as the lost cluster's, and a restore by schedule could pick the new cluster's own backups. Fix: \`pulumi config set gitops-dr:clusterName prod-eu-1-r1\` (any new name).`,
        );
    });

    it("requires sourcePrefix in a drill without sourceStack", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { sourcePrefix: null }), "sourcePrefix", "drill"),
            "is required: a drill stack needs the prefix of the backups it restores. Fix: `pulumi config set gitops-dr:sourcePrefix prod-eu-1` or `pulumi config set gitops-dr:sourceStack acme/gitops-dr/prod`.",
        );
    });

    it("rejects an invalid sourcePrefix", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { sourcePrefix: "prod//eu" }), "sourcePrefix", "recover"),
            '"prod//eu" must be path segments separated by single slashes, with no leading or trailing slash. Fix: `pulumi config set gitops-dr:sourcePrefix prod-eu-1`.',
        );
    });

    it("names the source stack's output when its prefix is invalid", () => {
        assert.equal(
            onlyProblem(RECOVER_FROM_STACK, "sourcePrefix", "recover", { ...PROD_OUTPUTS, prefix: "/prod-eu-1" }),
            `the source stack ${SOURCE_STACK}'s output prefix must be path segments separated by single slashes, with no leading or trailing slash. Fix: \`pulumi config set gitops-dr:sourcePrefix prod-eu-1\`.`,
        );
    });

    it("requires sourceScheduleName without sourceStack unless restoreBackupName is set", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { sourceScheduleName: null }), "sourceScheduleName", "recover"),
            "is required without a source stack: the restore picks the newest Completed backup of the lost cluster's daily Schedule. Fix: `pulumi config set gitops-dr:sourceScheduleName prod-eu-1-daily`, or name the backup with `pulumi config set gitops-dr:restoreBackupName prod-eu-1-daily-20261124020000`.",
        );
    });

    it("requires sourceScheduleName when the source stack has no dailyScheduleName output", () => {
        assert.equal(
            onlyProblem(RECOVER_FROM_STACK, "sourceScheduleName", "recover", withoutOutput("dailyScheduleName")),
            `is required (the source stack ${SOURCE_STACK} has no dailyScheduleName output): the restore picks the newest Completed backup of the lost cluster's daily Schedule. Fix: \`pulumi config set gitops-dr:sourceScheduleName prod-eu-1-daily\`, or name the backup with \`pulumi config set gitops-dr:restoreBackupName prod-eu-1-daily-20261124020000\`.`,
        );
    });

    it("rejects a sourceScheduleName that is not a Schedule name", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { sourceScheduleName: "Prod_Daily" }), "sourceScheduleName", "recover"),
            '"Prod_Daily" is not a Schedule name (lowercase letters, digits, hyphens; at most 63). Fix: `pulumi config set gitops-dr:sourceScheduleName prod-eu-1-daily`.',
        );
    });

    it("names the source stack's output when its dailyScheduleName is not a Schedule name", () => {
        assert.equal(
            onlyProblem(RECOVER_FROM_STACK, "sourceScheduleName", "recover", {
                ...PROD_OUTPUTS,
                dailyScheduleName: "Prod_Daily",
            }),
            `the source stack ${SOURCE_STACK}'s output dailyScheduleName is not a Schedule name (lowercase letters, digits, hyphens; at most 63). Fix: \`pulumi config set gitops-dr:sourceScheduleName prod-eu-1-daily\`.`,
        );
    });

    it("derives the source's credentials Schedule from its daily Schedule, its output, or a named daily backup", () => {
        assert.equal(parseConfig(RECOVER, "recover").source?.credentialsScheduleName, "prod-eu-1-credentials");
        assert.equal(
            parseConfig(RECOVER_FROM_STACK, "recover", { ...PROD_OUTPUTS, credentialsScheduleName: "prod-creds" })
                .source?.credentialsScheduleName,
            "prod-creds",
            "the source stack's output wins over the naming convention",
        );
        const byBackup = parseConfig(
            withKeys(RECOVER, { sourceScheduleName: null, restoreBackupName: "prod-eu-1-daily-20261124020000" }),
            "recover",
        );
        assert.equal(byBackup.source?.credentialsScheduleName, "prod-eu-1-credentials");
    });

    it("requires sourceCredentialsScheduleName when the daily Schedule does not follow <cluster>-daily", () => {
        assert.equal(
            onlyProblem(
                withKeys(RECOVER, { sourceScheduleName: "nightly" }),
                "sourceCredentialsScheduleName",
                "recover",
            ),
            'is required: the source\'s credentials Schedule (sealing keys, Argo CD credentials) cannot be derived from the daily Schedule "nightly". Fix: `pulumi config set gitops-dr:sourceCredentialsScheduleName prod-eu-1-credentials`, or `pulumi config set gitops-dr:restoreCredentials false` for a source that takes no such backups.',
        );
        const cfg = parseConfig(
            withKeys(RECOVER, { sourceScheduleName: "nightly", restoreCredentials: "false" }),
            "recover",
        );
        assert.equal(cfg.source?.credentialsScheduleName, undefined, "restoreCredentials false restores none");
    });

    it("rejects a sourceCredentialsScheduleName that is not a Schedule name", () => {
        assert.equal(
            onlyProblem(
                withKeys(RECOVER, { sourceCredentialsScheduleName: "Prod_Creds" }),
                "sourceCredentialsScheduleName",
                "recover",
            ),
            '"Prod_Creds" is not a Schedule name (lowercase letters, digits, hyphens; at most 63). Fix: `pulumi config set gitops-dr:sourceCredentialsScheduleName prod-eu-1-credentials`.',
        );
    });

    for (const [key, value] of [
        ["sourceStack", SOURCE_STACK],
        ["sourcePrefix", "prod-eu-1"],
        ["sourceScheduleName", "prod-eu-1-daily"],
        ["sourceCredentialsScheduleName", "prod-eu-1-credentials"],
    ]) {
        it(`rejects ${key} in a protect stack`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { [key]: value }), key),
                `"${value}" cannot be set in a protect stack: a protect stack restores only its own backups. Fix: \`pulumi config rm gitops-dr:${key}\`.`,
            );
        });
    }
});

describe("parseConfig: restore", () => {
    for (const [mode, base] of [
        ["recover", RECOVER],
        ["drill", DRILL],
    ] as const) {
        it(`requires restoreId in a ${mode} stack`, () => {
            assert.equal(
                onlyProblem(withKeys(base, { restoreId: null }), "restoreId", mode),
                `is required: it names this ${mode}'s Restore, and a new ${mode} needs a new one. Fix: \`pulumi config set gitops-dr:restoreId ${new Date().toISOString().slice(0, 10)}\`.`,
            );
        });
    }

    for (const id of ["Drill_1", "a".repeat(23)]) {
        it(`rejects the restoreId ${JSON.stringify(id)}`, () => {
            assert.equal(
                onlyProblem(withKeys(RECOVER, { restoreId: id }), "restoreId", "recover"),
                `"${id}" must be at most 22 lowercase letters, digits and hyphens (it becomes part of the Restore's name, <clusterName>-<restoreId>). Fix: \`pulumi config set gitops-dr:restoreId 2026-11-25\`.`,
            );
        });
    }

    it("rejects a restoreBackupName that is not a Backup name", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { restoreBackupName: "Prod Backup" }), "restoreBackupName", "recover"),
            '"Prod Backup" is not a Backup name (`velero backup get` lists them). Fix: `pulumi config set gitops-dr:restoreBackupName prod-eu-1-daily-20261124020000`.',
        );
    });

    it("rejects acceptPartiallyFailedBackup without restoreBackupName", () => {
        assert.equal(
            onlyProblem(
                withKeys(RECOVER, { acceptPartiallyFailedBackup: "true" }),
                "acceptPartiallyFailedBackup",
                "recover",
            ),
            "is true but no backup is named: a PartiallyFailed backup is restored only when it is chosen by name, after reading `velero backup describe NAME --details`. Fix: `pulumi config set gitops-dr:restoreBackupName <backup name>`.",
        );
    });

    it("warns that acceptPartiallyFailedRestore lets Argo CD sync after a PartiallyFailed restore", () => {
        assert.equal(
            onlyWarning(
                withKeys(DRILL, { acceptPartiallyFailedRestore: "true" }),
                "acceptPartiallyFailedRestore",
                "drill",
            ),
            "is true: Argo CD will sync even if some PVs, PVCs or Secrets failed to restore; read `velero restore describe <name> --details` before trusting the cluster.",
        );
    });

    it("rejects a restoreNamespaces entry that is not a namespace name", () => {
        assert.equal(
            onlyProblem(withKeys(RECOVER, { restoreNamespaces: '["shop", "Bad_NS"]' }), "restoreNamespaces", "recover"),
            "\"Bad_NS\" is not a namespace name (RFC 1123 label). Fix: `pulumi config set --path 'gitops-dr:restoreNamespaces[0]' shop`.",
        );
    });

    const MAPPING_FIX = "Fix: `pulumi config set --path 'gitops-dr:storageClassMappings[0]' gp2=gp3`.";
    for (const [entry, issue] of [
        ["gp2", "is not name=value"],
        ["=gp3", "is not name=value"],
        ["gp2=gp2", "maps a class to itself"],
        ["gp2=GP3", "does not map one StorageClass name to another"],
    ]) {
        it(`rejects the storageClassMappings entry ${JSON.stringify(entry)}: ${issue}`, () => {
            assert.equal(
                onlyProblem(
                    withKeys(RECOVER, { storageClassMappings: JSON.stringify([entry]) }),
                    "storageClassMappings",
                    "recover",
                ),
                `entry ${JSON.stringify(entry)} ${issue}. ${MAPPING_FIX}`,
            );
        });
    }

    it("rejects storageClassMappings that map one class twice", () => {
        assert.equal(
            onlyProblem(
                withKeys(RECOVER, { storageClassMappings: '["gp2=gp3", "gp2=io2"]' }),
                "storageClassMappings",
                "recover",
            ),
            'names "gp2" twice. Fix: keep one entry per name.',
        );
    });

    for (const [key, value, min, max, fallback] of [
        ["backupCheckTimeoutMinutes", "4", 5, 240, DERIVED_DEFAULTS.backupCheckTimeoutMinutes],
        ["backupCheckTimeoutMinutes", "241", 5, 240, DERIVED_DEFAULTS.backupCheckTimeoutMinutes],
        ["restoreTimeoutMinutes", "89", 90, 1440, DERIVED_DEFAULTS.restoreTimeoutMinutes],
        ["restoreTimeoutMinutes", "1441", 90, 1440, DERIVED_DEFAULTS.restoreTimeoutMinutes],
    ] as const) {
        it(`rejects the ${key} ${value}, outside ${min}-${max}`, () => {
            assert.equal(
                onlyProblem(withKeys(RECOVER, { [key]: value }), key, "recover"),
                `${value} is out of range; it must be between ${min} and ${max}. Fix: \`pulumi config set gitops-dr:${key} ${fallback}\`.`,
            );
        });
    }

    for (const [key, value] of [
        ["restoreId", "2026-11-25"],
        ["restoreBackupName", "prod-eu-1-daily-20261124020000"],
        ["acceptPartiallyFailedBackup", "true"],
        ["acceptPartiallyFailedRestore", "true"],
        ["restoreNamespaceMappings", '["shop=shop-restored"]'],
        ["storageClassMappings", '["gp2=gp3"]'],
        ["backupCheckTimeoutMinutes", "20"],
        ["restoreTimeoutMinutes", "300"],
    ]) {
        it(`rejects ${key} in a protect stack without restoreNamespaces`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { [key]: value }), key),
                `${JSON.stringify(value)} cannot be set in a protect stack: ${NOT_IN_PROTECT}. Fix: \`pulumi config rm gitops-dr:${key}\`.`,
            );
        });
    }
});

describe("parseConfig: the target cluster", () => {
    for (const [mode, base] of [
        ["recover", RECOVER],
        ["drill", DRILL],
    ] as const) {
        it(`requires kubeContext in a ${mode} stack (it adopts existing objects; the current context may be prod's)`, () => {
            assert.equal(
                onlyProblem(withKeys(base, { kubeContext: null }), "kubeContext", mode),
                `is required in a ${mode} stack: it must name the new cluster's context explicitly, never the current one, which may be prod's. Fix: \`pulumi config set gitops-dr:kubeContext ${mode === "drill" ? "drill-eu-1" : "prod-eu-2"}\` (kubectl config get-contexts).`,
            );
        });
    }

    it("refuses a drill check in a namespace the drill does not restore", () => {
        assert.equal(
            onlyProblem(
                withKeys(DRILL, { restoreNamespaces: '["shop"]', drillChecks: '["billing/deploy/api true"]' }),
                "drillChecks",
                "drill",
            ),
            '"billing/deploy/api true" checks namespace billing, which restoreNamespaces does not restore. Fix: add it to restoreNamespaces or drop the check.',
        );
    });
});

describe("parseConfig: recover one namespace (protect)", () => {
    it("parses a namespace restore into the running cluster, with a mapping", () => {
        const cfg = parseConfig(
            withKeys(PROTECT, {
                restoreNamespaces: '["shop"]',
                restoreId: "shop-1",
                restoreNamespaceMappings: '["shop=shop-restored"]',
            }),
            STACK,
        );
        assert.equal(cfg.source, undefined, "no source: it restores the cluster's own backups");
        assert.deepEqual(cfg.restore?.namespaces, ["shop"]);
        assert.deepEqual(cfg.restore?.namespaceMappings, { shop: "shop-restored" });
        assert.equal(cfg.restore?.id, "shop-1");
    });

    it("requires restoreId with restoreNamespaces", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { restoreNamespaces: '["shop"]' }), "restoreId"),
            `is required: it names this namespace restore's Restore, and a new namespace restore needs a new one. Fix: \`pulumi config set gitops-dr:restoreId ${new Date().toISOString().slice(0, 10)}\`.`,
        );
    });

    it("refuses a mapping of a namespace that is not restored", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, {
                    restoreNamespaces: '["shop"]',
                    restoreId: "x",
                    restoreNamespaceMappings: '["billing=billing-2"]',
                }),
                "restoreNamespaceMappings",
            ),
            "entry \"billing=billing-2\" maps billing, which restoreNamespaces does not restore. Fix: `pulumi config set --path 'gitops-dr:restoreNamespaceMappings[0]' shop=shop-restored`.",
        );
    });
});

describe("parseConfig: credentials", () => {
    const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
    const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const STATIC = withKeys(PROTECT, { credentialsMode: "staticKeys", oidcProviderArn: null });
    const POD_IDENTITY = withKeys(PROTECT, {
        credentialsMode: "podIdentity",
        oidcProviderArn: null,
        clusterRegion: "eu-west-1",
    });
    const WITH_KEYS = { awsAccessKeyId: secret(ACCESS_KEY), awsSecretAccessKey: secret(SECRET_KEY) };

    it("rejects an unknown credentialsMode", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { credentialsMode: "keys" }), "credentialsMode"),
            '"keys" is not one of irsa, podIdentity, staticKeys. Fix: `pulumi config set gitops-dr:credentialsMode irsa`.',
        );
    });

    it("requires oidcProviderArn with irsa", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { oidcProviderArn: null }), "oidcProviderArn"),
            `is required with credentialsMode irsa. Fix: \`pulumi config set gitops-dr:oidcProviderArn ${OIDC_FIX}\` (the issuer from \`aws eks describe-cluster --query cluster.identity.oidc.issuer\`).`,
        );
    });

    it("rejects an oidcProviderArn that is not an EKS IAM OIDC provider ARN", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { oidcProviderArn: "oidc.eks.eu-west-1.amazonaws.com/id/0123" }),
                "oidcProviderArn",
            ),
            `"oidc.eks.eu-west-1.amazonaws.com/id/0123" is not an EKS IAM OIDC provider ARN. Fix: \`pulumi config set gitops-dr:oidcProviderArn ${OIDC_FIX}\`.`,
        );
    });

    it("requires clusterRegion with podIdentity", () => {
        assert.equal(
            onlyProblem(withKeys(POD_IDENTITY, { clusterRegion: null }), "clusterRegion"),
            "is required with credentialsMode podIdentity: the association is made in the EKS cluster's region. Fix: `pulumi config set gitops-dr:clusterRegion eu-west-1`.",
        );
    });

    it("rejects a misspelt clusterRegion with the closest region", () => {
        assert.equal(
            onlyProblem(withKeys(POD_IDENTITY, { clusterRegion: "us-esat-1" }), "clusterRegion"),
            '"us-esat-1" is not an AWS region the pinned @pulumi/aws knows; did you mean us-east-1? (A region newer than the provider: set gitops-dr:allowUnlistedRegion true.) Fix: `pulumi config set gitops-dr:clusterRegion eu-west-1`.',
        );
    });

    it("warns that oidcProviderArn does nothing with podIdentity", () => {
        assert.equal(
            onlyWarning(withKeys(POD_IDENTITY, { oidcProviderArn: OIDC_ARN }), "oidcProviderArn"),
            `"${OIDC_ARN}" is ignored: Pod Identity needs no OIDC provider (credentialsMode irsa uses it). Remove it with \`pulumi config rm gitops-dr:oidcProviderArn\`.`,
        );
    });

    it("warns that oidcProviderArn does nothing with staticKeys", () => {
        assert.equal(
            onlyWarning(withKeys(STATIC, { ...WITH_KEYS, oidcProviderArn: OIDC_ARN }), "oidcProviderArn"),
            `"${OIDC_ARN}" is ignored: static keys need no OIDC provider (credentialsMode irsa uses it). Remove it with \`pulumi config rm gitops-dr:oidcProviderArn\`.`,
        );
    });

    it("warns that eksClusterName does nothing with irsa", () => {
        assert.equal(
            onlyWarning(withKeys(PROTECT, { eksClusterName: "prod" }), "eksClusterName"),
            '"prod" is ignored: it only names the cluster of a Pod Identity association (credentialsMode podIdentity). Remove it with `pulumi config rm gitops-dr:eksClusterName`.',
        );
    });

    it("warns that clusterRegion does nothing with irsa", () => {
        assert.equal(
            onlyWarning(withKeys(PROTECT, { clusterRegion: "eu-west-1" }), "clusterRegion"),
            '"eu-west-1" is ignored: it only places a Pod Identity association (credentialsMode podIdentity). Remove it with `pulumi config rm gitops-dr:clusterRegion`.',
        );
    });

    it("rejects static keys set in plain text without echoing them", () => {
        const error = configError(withKeys(STATIC, { awsAccessKeyId: ACCESS_KEY, awsSecretAccessKey: SECRET_KEY }));
        assert.deepEqual(error.problems, [
            {
                key: "gitops-dr:awsAccessKeyId",
                message:
                    "is set in plain text; it is a credential and must be encrypted. Fix: `pulumi config set --secret gitops-dr:awsAccessKeyId <value>`.",
            },
            {
                key: "gitops-dr:awsSecretAccessKey",
                message:
                    "is set in plain text; it is a credential and must be encrypted. Fix: `pulumi config set --secret gitops-dr:awsSecretAccessKey <value>`.",
            },
        ]);
        assert.ok(!error.message.includes(ACCESS_KEY));
        assert.ok(!error.message.includes(SECRET_KEY));
    });

    it("requires both static keys with staticKeys, or createAccessKey", () => {
        const create =
            ", or let the stack make the IAM user and its key: `pulumi config set gitops-dr:createAccessKey true`.";
        assert.deepEqual(problemsOf(STATIC), [
            {
                key: "gitops-dr:awsAccessKeyId",
                message: `is required. Fix: \`pulumi config set --secret gitops-dr:awsAccessKeyId AKIA...\`${create}`,
            },
            {
                key: "gitops-dr:awsSecretAccessKey",
                message:
                    "is required. Fix: `pulumi config set --secret gitops-dr:awsSecretAccessKey <secret-access-key>`.",
            },
        ]);
    });

    it("one typo in credentialsMode is one problem, whose fix is the mode meant", () => {
        assert.deepEqual(problemsOf(withKeys(PROTECT, { credentialsMode: "statickeys", createAccessKey: "true" })), [
            {
                key: "gitops-dr:credentialsMode",
                message:
                    '"statickeys" is not one of irsa, podIdentity, staticKeys. Fix: `pulumi config set gitops-dr:credentialsMode staticKeys`.',
            },
        ]);
    });

    it("one typo in createAccessKey is one problem: no key pair is then required", () => {
        assert.deepEqual(problemsOf(withKeys(STATIC, { createAccessKey: "yes" })), [
            {
                key: "gitops-dr:createAccessKey",
                message:
                    '"yes" is not a boolean; only true and false are. Fix: `pulumi config set gitops-dr:createAccessKey true`.',
            },
        ]);
    });

    it("takes createAccessKey with staticKeys and no key pair", () => {
        const cfg = parseConfig(withKeys(STATIC, { createAccessKey: "true" }), STACK);
        assert.deepEqual(cfg.credentials, { mode: "staticKeys", keys: "create" });
    });

    it("rejects a key pair set beside createAccessKey", () => {
        assert.deepEqual(
            problemsOf(withKeys(STATIC, { ...WITH_KEYS, createAccessKey: "true" })),
            ["awsAccessKeyId", "awsSecretAccessKey"].map((key) => ({
                key: `gitops-dr:${key}`,
                message: `is set but createAccessKey is true: the stack makes the IAM user and its key itself. Fix: \`pulumi config rm gitops-dr:${key}\` (and delete that key in IAM), or \`pulumi config set gitops-dr:createAccessKey false\` to use your own pair.`,
            })),
        );
    });

    it("rejects createAccessKey without staticKeys", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { createAccessKey: "true" }), "createAccessKey"),
            "is set but credentialsMode is irsa: only static keys come from an IAM user. Fix: `pulumi config rm gitops-dr:createAccessKey` or `pulumi config set gitops-dr:credentialsMode staticKeys`.",
        );
    });

    for (const [mode, base] of [
        ["irsa", PROTECT],
        ["podIdentity", POD_IDENTITY],
    ] as const) {
        it(`rejects access keys set while credentialsMode is ${mode}`, () => {
            assert.deepEqual(
                problemsOf(withKeys(base, WITH_KEYS)),
                ["awsAccessKeyId", "awsSecretAccessKey"].map((key) => ({
                    key: `gitops-dr:${key}`,
                    message: `is set but credentialsMode is ${mode}; unused credentials are a liability. Fix: \`pulumi config rm gitops-dr:${key}\` or \`pulumi config set gitops-dr:credentialsMode staticKeys\`.`,
                })),
            );
        });
    }
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
                message:
                    "is set in plain text; it is a credential and must be encrypted. Fix: `pulumi config set --secret gitops-dr:repoPassword <value>`.",
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

    for (const name of ["Velero", "v".repeat(54)]) {
        it(`rejects the veleroReleaseName ${JSON.stringify(name.length > 20 ? `${name.length} characters` : name)}`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { veleroReleaseName: name }), "veleroReleaseName"),
                `"${name}" is not a valid Helm release name (lowercase letters, digits, hyphens; at most 53). Fix: \`pulumi config set gitops-dr:veleroReleaseName velero\`.`,
            );
        });
    }

    it("rejects an unknown volumeDataMode", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { volumeDataMode: "restic" }), "volumeDataMode"),
            '"restic" is not one of dataMover, nativeSnapshots. Fix: `pulumi config set gitops-dr:volumeDataMode dataMover`.',
        );
    });

    it("rejects an awsPluginVersion off the v1.14 line (v1.13.1 does not pair)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { awsPluginVersion: "v1.13.1" }), "awsPluginVersion"),
            `"v1.13.1" does not pair with Velero 1.18 (chart 12.1.0); the velero-plugin-for-aws compatibility matrix pairs it with the v1.14.x line. Fix: \`pulumi config set gitops-dr:awsPluginVersion ${VELERO_AWS_PLUGIN.tag}\`.`,
        );
    });

    it("rejects an invalid excludedNamespaces entry", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { excludedNamespaces: '["monitoring", "Bad_NS"]' }), "excludedNamespaces"),
            '"Bad_NS" is not a valid namespace name (RFC 1123 label). Fix: correct or remove it from the list in Pulumi.prod.yaml.',
        );
    });

    it("fileSystemBackupVolumeTypes: [] turns file-system backup off; a list is taken as it is", () => {
        const off = parseConfig(withKeys(PROTECT, { fileSystemBackupVolumeTypes: "[]" }), STACK);
        assert.deepEqual(off.velero.fileSystemBackupVolumeTypes, []);
        const csi = parseConfig(withKeys(PROTECT, { fileSystemBackupVolumeTypes: '["local", "csi"]' }), STACK);
        assert.deepEqual(csi.velero.fileSystemBackupVolumeTypes, ["local", "csi"]);
    });

    it("warns that a Velero Deployment not called velero cannot restore file-system backup data", () => {
        assert.equal(
            onlyWarning(withKeys(PROTECT, { veleroReleaseName: "backup" }), "veleroReleaseName"),
            '"backup" names Velero\'s Deployment "backup-velero", but Velero 1.18 restores file-system backup data only when its Deployment is called "velero" (fileSystemBackupVolumeTypes is on). Fix: `pulumi config rm gitops-dr:veleroReleaseName` before the first backup, or set fileSystemBackupVolumeTypes to [].',
        );
        assert.deepEqual(
            warningsOf(withKeys(PROTECT, { veleroReleaseName: "backup", fileSystemBackupVolumeTypes: "[]" })),
            [],
        );
    });

    const FSB_FIX =
        "Fix: `pulumi config set --path 'gitops-dr:fileSystemBackupVolumeTypes[0]' local && pulumi config set --path 'gitops-dr:fileSystemBackupVolumeTypes[1]' nfs`, or set it to [] in Pulumi.prod.yaml to turn file-system backup off.";
    it("rejects a fileSystemBackupVolumeTypes entry Velero does not name, with the closest one", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { fileSystemBackupVolumeTypes: '["local", "NFS"]' }),
                "fileSystemBackupVolumeTypes",
            ),
            `"NFS" is not a PersistentVolume type Velero's volume policy knows; did you mean nfs? ${FSB_FIX}`,
        );
    });

    it("rejects hostPath in fileSystemBackupVolumeTypes: Velero cannot back it up", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { fileSystemBackupVolumeTypes: '["hostPath"]' }),
                "fileSystemBackupVolumeTypes",
            ),
            `names "hostPath", which Velero cannot back up: file-system backup skips hostPath volumes with a warning (velero pkg/podvolume/backupper.go). Move their data to local volumes (README, "Homelab (k3s) storage"). ${FSB_FIX}`,
        );
    });

    it("rejects a fileSystemBackupVolumeTypes entry named twice", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { fileSystemBackupVolumeTypes: '["nfs", "nfs"]' }),
                "fileSystemBackupVolumeTypes",
            ),
            'names "nfs" twice. Fix: keep one entry per type.',
        );
    });

    const NODE_LABEL_FIX =
        "Fix: `pulumi config set --path 'gitops-dr:dataMoverNodeLabels[0]' topology.kubernetes.io/zone=eu-west-1a`.";
    for (const [entry, issue] of [
        ["zone", "is not name=value"],
        ["-zone=eu-west-1a", "has a key that is not a label key"],
        ["zone=eu west", "has a value that is not a label value"],
    ]) {
        it(`rejects the dataMoverNodeLabels entry ${JSON.stringify(entry)}: ${issue}`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { dataMoverNodeLabels: JSON.stringify([entry]) }), "dataMoverNodeLabels"),
                `entry ${JSON.stringify(entry)} ${issue}. ${NODE_LABEL_FIX}`,
            );
        });
    }

    it("warns that dataMoverNodeLabels do nothing with nativeSnapshots", () => {
        assert.equal(
            onlyWarning(
                withKeys(PROTECT, {
                    volumeDataMode: "nativeSnapshots",
                    verifySchedule: "off",
                    dataMoverNodeLabels: '["topology.kubernetes.io/zone=eu-west-1a"]',
                }),
                "dataMoverNodeLabels",
            ),
            "is ignored: there are no data-mover pods with volumeDataMode nativeSnapshots. Remove it with `pulumi config rm gitops-dr:dataMoverNodeLabels`.",
        );
    });

    it("warns that the weekly verification cannot prove claims' data with nativeSnapshots, and still runs", () => {
        const raw = withKeys(PROTECT, { volumeDataMode: "nativeSnapshots" });
        assert.equal(
            onlyWarning(raw, "verifySchedule"),
            "with volumeDataMode nativeSnapshots the weekly verification cannot bring claims' data back: a native snapshot returns only as a new volume of its PersistentVolume, which a restore into the running cluster leaves out. " +
                "Namespaces with claims are listed in the record's notVerifiable, with the reason, and only the yearly drill proves them; the rest (Secrets, namespaces without claims) is still verified. " +
                "To prove them weekly: `pulumi config set gitops-dr:volumeDataMode dataMover`.",
        );
        assert.ok(parseConfigWithWarnings(raw, STACK, {}).config.verify !== undefined, "the verification stays on");
        assert.deepEqual(
            warningsOf(withKeys(PROTECT, { volumeDataMode: "nativeSnapshots", verifySchedule: "off" })),
            [],
        );
        assert.deepEqual(warningsOf(PROTECT), [], "dataMover: no warning");
    });
});

describe("parseConfig: schedules", () => {
    const DAILY_FIX = "Fix: `pulumi config set gitops-dr:backupSchedule '0 2 * * *'`.";
    const GO_DURATION =
        "is not a Go duration (time.ParseDuration: a number and a unit h, m, s, ms, us or ns, e.g. 720h or 36.5h; no days)";

    it("rejects a backupSchedule with an hour out of range", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupSchedule: "0 25 * * *" }), "backupSchedule"),
            `"0 25 * * *" has an hour field Velero's cron parser refuses (end of range (25) above maximum (23): 25). ${DAILY_FIX}`,
        );
    });

    it("rejects a backupSchedule that is prose", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupSchedule: "every day" }), "backupSchedule"),
            `"every day" has 2 fields; Velero takes exactly 5 (minute hour day-of-month month day-of-week). ${DAILY_FIX}`,
        );
    });

    it("rejects a backupSchedule with 6 fields (seconds)", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupSchedule: "0 0 2 * * *" }), "backupSchedule"),
            `"0 0 2 * * *" has 6 fields; Velero takes exactly 5 (minute hour day-of-month month day-of-week). ${DAILY_FIX}`,
        );
    });

    it("rejects a weeklyBackupSchedule with day of week 7, with the weekly tier's own default in the fix", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { lockDays: "31", weeklyBackupTtl: "744h", weeklyBackupSchedule: "0 3 * * 7" }),
                "weeklyBackupSchedule",
            ),
            `"0 3 * * 7" has a day of week field Velero's cron parser refuses (end of range (7) above maximum (6): 7). Fix: \`pulumi config set gitops-dr:weeklyBackupSchedule '${DERIVED_DEFAULTS.weeklyBackupSchedule}'\`.`,
        );
    });

    it("rejects a backupTtl in days", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupTtl: "30d" }), "backupTtl"),
            `"30d" ${GO_DURATION}. Fix: \`pulumi config set gitops-dr:backupTtl 720h\`.`,
        );
    });

    for (const ttl of ["0", "0h", "-24h"]) {
        it(`rejects the backupTtl ${JSON.stringify(ttl)}, a Go duration that keeps no backup`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { backupTtl: ttl }), "backupTtl"),
                `${JSON.stringify(ttl)} would keep no backup at all. Fix: \`pulumi config set gitops-dr:backupTtl 720h\`.`,
            );
        });
    }

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
            `"1y" ${GO_DURATION}. Fix: \`pulumi config set gitops-dr:monthlyBackupTtl 744h\`.`,
        );
    });

    it("rejects a weeklyBackupSchedule without weeklyBackupTtl", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { weeklyBackupSchedule: "0 3 * * 1" }), "weeklyBackupSchedule"),
            '"0 3 * * 1" is set but weeklyBackupTtl is not, so the weekly tier is off. Fix: `pulumi config set gitops-dr:weeklyBackupTtl 744h` or `pulumi config rm gitops-dr:weeklyBackupSchedule`.',
        );
    });

    for (const [key, value] of [
        ["backupSchedule", "0 2 * * *"],
        ["backupTtl", "720h"],
        ["weeklyBackupTtl", "744h"],
        ["monthlyBackupSchedule", "0 4 1 * *"],
    ]) {
        it(`rejects ${key} in a drill, which takes no backups`, () => {
            assert.equal(
                onlyProblem(withKeys(DRILL, { [key]: value }), key, "drill"),
                `"${value}" cannot be set in a drill stack: a drill is read-only towards the backups and takes none. Fix: \`pulumi config rm gitops-dr:${key}\`.`,
            );
        });
    }
});

describe("parseConfig: Argo CD", () => {
    for (const [mode, base] of [
        ["protect", PROTECT],
        ["recover", RECOVER],
        ["drill", DRILL],
    ] as const) {
        it(`requires gitRepoUrl in a ${mode} stack`, () => {
            assert.equal(
                onlyProblem(withKeys(base, { gitRepoUrl: null }), "gitRepoUrl", mode),
                "is required: the git repository Argo CD rebuilds the cluster's apps from. Fix: `pulumi config set gitops-dr:gitRepoUrl https://github.com/acme/platform-gitops.git`.",
            );
        });
    }

    it("rejects a gitRepoUrl that is neither https nor ssh", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { gitRepoUrl: "http://github.com/acme/platform-gitops.git" }), "gitRepoUrl"),
            '"http://github.com/acme/platform-gitops.git" is not an https:// or ssh git URL. Fix: `pulumi config set gitops-dr:gitRepoUrl https://github.com/acme/platform-gitops.git`.',
        );
    });

    for (const path of ["/apps", "apps/../secrets"]) {
        it(`rejects the gitPath ${JSON.stringify(path)}, outside the repository`, () => {
            assert.equal(
                onlyProblem(withKeys(PROTECT, { gitPath: path }), "gitPath"),
                `${JSON.stringify(path)} must be a path inside the repository (no leading slash, no ..). Fix: \`pulumi config set gitops-dr:gitPath apps\`.`,
            );
        });
    }

    it("requires gitPassword with gitUsername", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { gitUsername: "git" }), "gitPassword"),
            "is needed too: a private https repository takes gitUsername and gitPassword together. Fix: `pulumi config set --secret gitops-dr:gitPassword <token>`.",
        );
    });

    it("requires gitUsername with gitPassword", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { gitPassword: secret("ghp_exampletoken0123456789") }), "gitUsername"),
            "is needed too: a private https repository takes gitUsername and gitPassword together. Fix: `pulumi config set gitops-dr:gitUsername git`.",
        );
    });

    it("rejects https credentials with an ssh URL", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, {
                    gitRepoUrl: "ssh://git@github.com/acme/platform-gitops.git",
                    gitUsername: "git",
                    gitPassword: secret("ghp_exampletoken0123456789"),
                }),
                "gitUsername",
            ),
            'is set, but "ssh://git@github.com/acme/platform-gitops.git" is an ssh URL, which authenticates with gitSshPrivateKey. Fix: `pulumi config rm gitops-dr:gitUsername` and `pulumi config rm gitops-dr:gitPassword`.',
        );
    });

    it("rejects an ssh key with an https URL", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { gitSshPrivateKey: secret("-----BEGIN OPENSSH PRIVATE KEY-----") }),
                "gitSshPrivateKey",
            ),
            `is set, but "${GIT_URL}" is not an ssh URL. Fix: use the repository's ssh URL in gitRepoUrl, or \`pulumi config rm gitops-dr:gitSshPrivateKey\`.`,
        );
    });

    it("rejects a gitPassword set in plain text", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { gitUsername: "git", gitPassword: "ghp_exampletoken0123456789" }),
                "gitPassword",
            ),
            "is set in plain text; it is a credential and must be encrypted. Fix: `pulumi config set --secret gitops-dr:gitPassword <value>`.",
        );
    });

    it("rejects an invalid argoCdNamespace", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { argoCdNamespace: "Argo_CD" }), "argoCdNamespace"),
            '"Argo_CD" is not a valid namespace name (RFC 1123 label). Fix: `pulumi config set gitops-dr:argoCdNamespace argocd`.',
        );
    });

    it("rejects an argoCdNamespace shared with Velero", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { argoCdNamespace: "velero" }), "argoCdNamespace"),
            '"velero" is also Velero\'s namespace; each needs its own. Fix: `pulumi config set gitops-dr:argoCdNamespace argocd`.',
        );
    });

    it("accepts newAppVolumes in protect; the run warns about it once, from the ArgoCd component (tests/argocd.test.ts)", () => {
        const { config, warnings } = parseConfigWithWarnings(
            withKeys(PROTECT, { newAppVolumes: '["shop", "billing"]' }),
            STACK,
        );
        assert.deepEqual(config.argoCd.newAppVolumes, ["shop", "billing"]);
        assert.deepEqual(warnings, []);
    });

    it("rejects a newAppVolumes entry that is not an Application name", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { newAppVolumes: '["Shop"]' }), "newAppVolumes"),
            "\"Shop\" is not an Application name. Fix: `pulumi config set --path 'gitops-dr:newAppVolumes[0]' shop`.",
        );
    });

    for (const [mode, base] of [
        ["recover", RECOVER],
        ["drill", DRILL],
    ] as const) {
        it(`rejects newAppVolumes in a ${mode} stack`, () => {
            assert.equal(
                onlyProblem(withKeys(base, { newAppVolumes: '["shop"]' }), "newAppVolumes", mode),
                `"[\\"shop\\"]" cannot be set in a ${mode} stack: every claim and Secret of a rebuilt cluster comes from the backup, and Argo CD must never create them. Fix: \`pulumi config rm gitops-dr:newAppVolumes\`.`,
            );
        });
    }
});

describe("parseConfig: the backup check (backupCheckSchedule)", () => {
    const FIX =
        "Fix: `pulumi config set gitops-dr:backupCheckSchedule '30 * * * *'`, or `pulumi config set gitops-dr:backupCheckSchedule off` to switch the check off.";
    it("runs hourly by default in the stacks that back up; off switches it off", () => {
        assert.deepEqual(parseConfig(PROTECT, STACK).backupCheck, { schedule: "30 * * * *", periodSeconds: 3600 });
        assert.deepEqual(parseConfig(RECOVER, "recover").backupCheck, { schedule: "30 * * * *", periodSeconds: 3600 });
        assert.equal(parseConfig(withKeys(PROTECT, { backupCheckSchedule: "off" }), STACK).backupCheck, undefined);
        assert.equal(parseConfig(DRILL, "drill").backupCheck, undefined);
    });

    it("refuses it in a drill, which takes no backups", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { backupCheckSchedule: "0 * * * *" }), "backupCheckSchedule", "drill"),
            '"0 * * * *" cannot be set in a drill stack: a drill takes no backups. Fix: `pulumi config rm gitops-dr:backupCheckSchedule`.',
        );
    });

    it("refuses a cron Velero's parser would refuse", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupCheckSchedule: "61 * * * *" }), "backupCheckSchedule"),
            `"61 * * * *" has a minute field Velero's cron parser refuses (end of range (61) above maximum (59): 61). ${FIX}`,
        );
    });

    it("refuses an @every interval, which a CronJob does not take", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupCheckSchedule: "@every 1h" }), "backupCheckSchedule"),
            `"@every 1h" is an @every interval, which a CronJob does not run on a calendar. ${FIX}`,
        );
    });

    it("refuses a schedule that runs less than daily: a daily backup would go unchecked", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { backupCheckSchedule: "30 4 * * 0" }), "backupCheckSchedule"),
            `"30 4 * * 0" leaves up to 168 hours between two runs: a daily backup without data would go unchecked that long. It must run at least daily. ${FIX}`,
        );
    });
});

describe("parseConfig: storageClassesWithoutData (the storage preflight)", () => {
    it("protect: none by default, a list taken as it is; no preflight in the other modes", () => {
        assert.deepEqual(parseConfig(PROTECT, STACK).storagePreflight, { acknowledged: [] });
        assert.deepEqual(
            parseConfig(
                withKeys(PROTECT, { storageClassesWithoutData: '["local-path", "scratch.example.com"]' }),
                STACK,
            ).storagePreflight,
            { acknowledged: ["local-path", "scratch.example.com"] },
        );
        assert.deepEqual(
            parseConfig(withKeys(PROTECT, { storageClassesWithoutData: '["<no class>"]' }), STACK).storagePreflight,
            { acknowledged: ["<no class>"] },
            "the preflight's name for volumes of no class",
        );
        assert.equal(parseConfig(RECOVER, "recover").storagePreflight, undefined);
    });

    it("refuses it outside protect", () => {
        assert.equal(
            onlyProblem(
                withKeys(DRILL, { storageClassesWithoutData: '["local-path"]' }),
                "storageClassesWithoutData",
                "drill",
            ),
            '"[\\"local-path\\"]" cannot be set in a drill stack: only a protect stack checks its StorageClasses before its first backup. Fix: `pulumi config rm gitops-dr:storageClassesWithoutData`.',
        );
    });

    it("refuses a name that is not a StorageClass name", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { storageClassesWithoutData: '["Local_Path"]' }),
                "storageClassesWithoutData",
            ),
            '"Local_Path" is not a StorageClass name (a DNS subdomain: lowercase letters, digits, "-" and "."; or "<no class>" for volumes of no class). Fix: correct it in Pulumi.prod.yaml, as `kubectl get storageclass` names it.',
        );
    });

    it("refuses a class named twice", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { storageClassesWithoutData: '["local-path", "local-path"]' }),
                "storageClassesWithoutData",
            ),
            'names "local-path" twice. Fix: keep one entry per class.',
        );
    });
});

describe("parseConfig: monitoring", () => {
    it("warns that monitoringLabels do nothing without prometheusOperator", () => {
        assert.equal(
            onlyWarning(
                withKeys(PROTECT, { monitoringLabels: '["release=kube-prometheus-stack"]' }),
                "monitoringLabels",
            ),
            "is ignored: prometheusOperator is false, so no ServiceMonitor, PodMonitor or PrometheusRule is made. Remove it with `pulumi config rm gitops-dr:monitoringLabels` or `pulumi config set gitops-dr:prometheusOperator true`.",
        );
    });

    it("rejects a monitoringLabels entry with an invalid label value", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { prometheusOperator: "true", monitoringLabels: '["release=kube prometheus"]' }),
                "monitoringLabels",
            ),
            "entry \"release=kube prometheus\" has a value that is not a label value. Fix: `pulumi config set --path 'gitops-dr:monitoringLabels[0]' release=kube-prometheus-stack`.",
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

    it("reports every problem of every area in one error", () => {
        const error = configError(
            withKeys(RECOVER, {
                lockDay: "30",
                clusterName: null,
                region: "eu-wset-1",
                lockDays: "x",
                sourceScheduleName: null,
                credentialsMode: "podIdentity",
                oidcProviderArn: null,
                repoPassword: plain(REPO_PASSWORD),
                backupSchedule: "0 2 * * 7",
                gitRepoUrl: null,
                restoreId: null,
                prometheusOperator: "yes",
                monitoringLabels: '["release"]',
            }),
            "recover",
        );
        assert.deepEqual(
            error.problems.map((p) => p.key),
            [
                "gitops-dr:lockDay",
                "gitops-dr:clusterName",
                "gitops-dr:region",
                "gitops-dr:lockDays",
                "gitops-dr:sourceScheduleName",
                "gitops-dr:clusterRegion",
                "gitops-dr:repoPassword",
                "gitops-dr:backupSchedule",
                "gitops-dr:gitRepoUrl",
                "gitops-dr:restoreId",
                "gitops-dr:prometheusOperator",
                "gitops-dr:monitoringLabels",
            ],
        );
        assert.ok(
            error.message.startsWith(`gitops-dr: the stack configuration has ${error.problems.length} problems:\n`),
            error.message,
        );
        for (const p of error.problems) {
            assert.ok(error.message.includes(`  - ${p.key}: ${p.message}`), `message lacks ${p.key}`);
        }
    });

    it("never echoes a secret value in a problem or a warning", () => {
        const secrets = {
            repoPassword: "repo-password-VALUE-0001",
            awsAccessKeyId: "AKIA-VALUE-0002",
            awsSecretAccessKey: "aws-secret-VALUE-0003",
            gitPassword: "git-password-VALUE-0004",
            gitSshPrivateKey: "ssh-key-VALUE-0005",
        };
        const asPlain = Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, plain(v)]));
        const asSecret = Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, secret(v)]));
        const cases: [string, RawConfig, string][] = [
            ["every secret in plain text", withKeys(PROTECT, { ...asPlain, gitUsername: "git" }), "protect"],
            [
                "static keys with irsa, https and ssh credentials mixed",
                withKeys(PROTECT, { ...asSecret, gitUsername: "git" }),
                "protect",
            ],
            [
                "ssh credentials with an https URL in a recover stack",
                withKeys(RECOVER, { gitSshPrivateKey: asSecret.gitSshPrivateKey, repoPassword: secret("short") }),
                "recover",
            ],
            [
                "git credentials with an ssh URL in a drill",
                withKeys(DRILL, { ...asSecret, gitRepoUrl: "git@github.com:acme/x.git", gitUsername: "git" }),
                "drill",
            ],
        ];
        for (const [what, raw, stack] of cases) {
            const error = configError(raw, stack);
            for (const value of Object.values(secrets)) {
                assert.ok(!error.message.includes(value), `${what}: the error shows ${value}:\n${error.message}`);
            }
        }
        const { warnings } = parseConfigWithWarnings(
            withKeys(PROTECT, {
                credentialsMode: "staticKeys",
                oidcProviderArn: OIDC_ARN,
                awsAccessKeyId: asSecret.awsAccessKeyId,
                awsSecretAccessKey: asSecret.awsSecretAccessKey,
            }),
            STACK,
        );
        assert.equal(warnings.length, 1);
        for (const value of Object.values(secrets)) {
            assert.ok(!warnings.some((w) => w.message.includes(value)));
        }
    });
});

describe("parseConfig: breakGlassPrincipalArns", () => {
    const glass = (arns: readonly string[]) => withKeys(PROTECT, { breakGlassPrincipalArns: JSON.stringify(arns) });

    it("passes the break-glass principals to the vault that creates its keys", () => {
        assert.deepEqual(parseConfig(PROTECT, STACK).vault.breakGlassPrincipalArns, [BREAK_GLASS]);
    });

    it("requires them when the stack creates the vault's KMS key", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { breakGlassPrincipalArns: null }), "breakGlassPrincipalArns"),
            `is required when the stack creates the vault's KMS key: its key policy lets only these principals disable the key, schedule its deletion or change the policy, and AWS refuses a key policy that locks out the principal running \`pulumi up\`. Fix: ${BREAK_GLASS_FIX} (include the role that deploys this stack).`,
        );
    });

    it("rejects an empty list", () => {
        assert.equal(
            onlyProblem(glass([]), "breakGlassPrincipalArns"),
            `is empty: nobody could then disable or delete the vault's key, nor change its policy, and AWS refuses such a key policy. Fix: ${BREAK_GLASS_FIX}.`,
        );
    });

    it("rejects a wildcard", () => {
        assert.equal(
            onlyProblem(glass([BREAK_GLASS, "arn:aws:iam::111122223333:role/admin-*"]), "breakGlassPrincipalArns"),
            `"arn:aws:iam::111122223333:role/admin-*" contains a wildcard: it would name every principal it matches, and a key policy's Principal takes none. Fix: list each role or user ARN, e.g. ${BREAK_GLASS_FIX}.`,
        );
    });

    it("rejects the account root, which in a key policy means every IAM principal of the account", () => {
        assert.match(
            onlyProblem(glass(["arn:aws:iam::111122223333:root"]), "breakGlassPrincipalArns"),
            /^"arn:aws:iam::111122223333:root" is the account: in a key policy's Principal it means every IAM principal/,
        );
    });

    it("rejects a role session ARN and names the role to use", () => {
        assert.match(
            onlyProblem(
                glass(["arn:aws:sts::111122223333:assumed-role/vault-break-glass/alice"]),
                "breakGlassPrincipalArns",
            ),
            /is a role session, which ends; AWS compares aws:PrincipalArn, the session's role ARN\. Fix: name the role/,
        );
    });

    it("rejects what is not an IAM role or user ARN", () => {
        assert.equal(
            onlyProblem(glass(["vault-break-glass"]), "breakGlassPrincipalArns"),
            `"vault-break-glass" is not an IAM role or user ARN. Fix: ${BREAK_GLASS_FIX}.`,
        );
    });

    it("rejects a principal listed twice", () => {
        assert.equal(
            onlyProblem(glass([BREAK_GLASS, BREAK_GLASS]), "breakGlassPrincipalArns"),
            `"${BREAK_GLASS}" is listed twice. Fix: list each principal once.`,
        );
    });

    it("warns when every principal is an IAM Identity Center role, whose ARN changes when it is re-created", () => {
        const sso =
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef";
        assert.equal(
            onlyWarning(glass([sso]), "breakGlassPrincipalArns"),
            `every entry is an IAM Identity Center role (role/aws-reserved/sso.amazonaws.com/...): Identity Center deletes such a role when its permission set's last assignment in the account is removed and creates it again with another suffix, so another ARN, and then nobody could disable, delete or re-policy the vault's key. Fix: add a role of your own that Identity Center does not manage, e.g. \`pulumi config set --path 'gitops-dr:breakGlassPrincipalArns[0]' ${sso} && pulumi config set --path 'gitops-dr:breakGlassPrincipalArns[1]' ${BREAK_GLASS}\`.`,
        );
        // One role of one's own beside it is enough.
        assert.deepEqual(warningsOf(glass([sso, BREAK_GLASS])), []);
    });

    it("warns that they do nothing when the stack creates no key", () => {
        assert.match(
            onlyWarning(withKeys(PROTECT, { kmsKeyArn: KMS_ARN }), "breakGlassPrincipalArns"),
            /is ignored: the stack creates no KMS key \(createBucket false or kmsKeyArn set\)/,
        );
    });

    it("refuses them in a drill, which writes no key policy", () => {
        assert.equal(
            onlyProblem(
                withKeys(DRILL, { breakGlassPrincipalArns: JSON.stringify([BREAK_GLASS]) }),
                "breakGlassPrincipalArns",
                "drill",
            ),
            `${JSON.stringify(JSON.stringify([BREAK_GLASS]))} cannot be set in a drill stack: only the stack that creates the vault's keys writes their policy. Fix: \`pulumi config rm gitops-dr:breakGlassPrincipalArns\`.`,
        );
    });
});

describe("parseConfig: input an attacker or a careless operator gives", () => {
    for (const [key, value, fix] of [
        ["gitPath", "   ", "apps"],
        ["gitPath", "apps\nmore", "apps"],
    ] as const) {
        it(`rejects the ${key} ${JSON.stringify(value)} with a message, not a stack trace`, () => {
            assert.match(
                onlyProblem(withKeys(PROTECT, { [key]: value }), key),
                new RegExp(
                    `^${JSON.stringify(value).replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")} (is blank|contains whitespace or a control character): .* Fix: \`pulumi config set gitops-dr:${key} ${fix}\`\\.$`,
                ),
            );
        });
    }

    it("rejects a blank gitRevision", () => {
        assert.equal(
            onlyProblem(withKeys(PROTECT, { gitRevision: "  " }), "gitRevision"),
            '"  " is blank, which no git branch, tag or commit has. Fix: `pulumi config set gitops-dr:gitRevision HEAD`.',
        );
    });

    it("rejects a gitRevision with a space in it", () => {
        assert.match(
            onlyProblem(withKeys(PROTECT, { gitRevision: "main extra" }), "gitRevision"),
            /^"main extra" contains whitespace or a control character/,
        );
    });

    for (const url of [
        "https://user:ghp_0123456789abcdefghijklmnopqrstuvwxyzAB@github.com/acme/platform-gitops.git",
        "https://ghp_0123456789abcdefghijklmnopqrstuvwxyzAB@github.com/acme/platform-gitops.git",
    ]) {
        it(`rejects credentials in gitRepoUrl (${url.includes(":ghp") ? "user and token" : "token"}) without echoing them`, () => {
            const message = onlyProblem(withKeys(PROTECT, { gitRepoUrl: url }), "gitRepoUrl");
            assert.ok(!message.includes("ghp_"), message);
            assert.match(message, /in the URL, which would land in plain text in the Argo CD Application/);
            assert.ok(
                message.includes(
                    "`pulumi config set gitops-dr:gitRepoUrl https://github.com/acme/platform-gitops.git`",
                ),
            );
        });
    }

    it("accepts ssh URLs that name only the ssh user", () => {
        for (const url of [
            "git@github.com:acme/platform-gitops.git",
            "ssh://git@github.com/acme/platform-gitops.git",
        ]) {
            assert.equal(
                parseConfig(withKeys(PROTECT, { gitRepoUrl: url, gitSshPrivateKey: secret("k") }), STACK).argoCd
                    .repository.url,
                url,
            );
        }
    });

    it("rejects transition days no S3 lifecycle takes (1e23 written out)", () => {
        assert.equal(
            onlyProblem(
                withKeys(PROTECT, { storageTransitions: '["STANDARD_IA:100000000000000000000000"]' }),
                "storageTransitions",
            ),
            "\"STANDARD_IA:100000000000000000000000\": 100000000000000000000000 days is more than 36500 (100 years), which S3 does not take. Fix: `pulumi config set --path 'gitops-dr:storageTransitions[0]' STANDARD_IA:30`.",
        );
    });

    it("rejects a kubeContext with a newline", () => {
        assert.equal(
            onlyProblem(withKeys(DRILL, { kubeContext: "drill-eu-1\nprod-eu-1" }), "kubeContext", "drill"),
            '"drill-eu-1\\nprod-eu-1" contains a control character or surrounding whitespace, which no kubeconfig context name has. Fix: `pulumi config set gitops-dr:kubeContext drill-eu-1` (kubectl config get-contexts).',
        );
    });

    for (const cron of ["* * * * *", "*/30 * * * *", "@every 10m"]) {
        it(`rejects the backupSchedule ${JSON.stringify(cron)}: at most one locked backup an hour`, () => {
            assert.match(
                onlyProblem(withKeys(PROTECT, { backupSchedule: cron }), "backupSchedule"),
                /runs as often as every [\d.]+ minutes; every backup stays locked and billed for lockDays, so gitops-dr takes at most one an hour\. Fix: `pulumi config set gitops-dr:backupSchedule '0 2 \* \* \*'`\.$/,
            );
        });
    }

    it("accepts an hourly backupSchedule, the most frequent allowed", () => {
        assert.equal(
            parseConfig(withKeys(PROTECT, { backupSchedule: "@hourly" }), STACK).velero.tiers[0].cron,
            "@hourly",
        );
    });
});

describe("parseConfig: drillEgressAllow (the drill's NetworkPolicies)", () => {
    const allow = (value: string) =>
        onlyProblem(withKeys(DRILL, { drillEgressAllow: value }), "drillEgressAllow", "drill");

    it("parses CIDRs of both families into the drill's settings", () => {
        const cfg = parseConfig(withKeys(DRILL, { drillEgressAllow: '["10.20.0.0/16", "2001:db8::/32"]' }), "drill");
        assert.deepEqual(cfg.drill?.egressAllow, ["10.20.0.0/16", "2001:db8::/32"]);
        assert.deepEqual(parseConfig(DRILL, "drill").drill?.egressAllow, [], "none by default");
    });

    it("refuses what is not a CIDR", () => {
        assert.equal(
            allow('["10.20.0.0"]'),
            `"10.20.0.0" is not a CIDR (an IPv4 or IPv6 address, "/" and a prefix length of at most 32 or 128). Fix: \`pulumi config set --path 'gitops-dr:drillEgressAllow[0]' 10.20.0.0/16\`.`,
        );
        assert.match(allow('["10.20.0.0/33"]'), /^"10.20.0.0\/33" is not a CIDR/);
        assert.match(allow('["db.example.com/32"]'), /^"db.example.com\/32" is not a CIDR/);
    });

    it("refuses a /0, which undoes the isolation", () => {
        for (const cidr of ["0.0.0.0/0", "::/0"]) {
            assert.equal(
                allow(JSON.stringify([cidr])),
                `"${cidr}" allows every address, which undoes the drill's isolation (prod's APIs, DNS providers, mail). Fix: list only the networks the drill may reach.`,
            );
        }
    });

    it("refuses host bits set, naming the network", () => {
        assert.equal(
            allow('["10.20.30.40/16"]'),
            `"10.20.30.40/16" has host bits set: the network is 10.20.0.0/16. Fix: write "10.20.0.0/16".`,
        );
        assert.match(
            allow('["2001:db8::1/64"]'),
            /^"2001:db8::1\/64" has host bits set: the network is 2001:db8::\/64\. Fix: write "2001:db8::\/64"\.$/,
        );
    });

    it("refuses a CIDR listed twice", () => {
        assert.equal(
            allow('["10.20.0.0/16", "10.20.0.0/16"]'),
            'lists "10.20.0.0/16" twice. Fix: keep one entry per CIDR.',
        );
    });

    it("is refused outside a drill", () => {
        assert.match(
            onlyProblem(withKeys(PROTECT, { drillEgressAllow: '["10.20.0.0/16"]' }), "drillEgressAllow"),
            /only a drill isolates its namespaces/,
        );
    });
});
