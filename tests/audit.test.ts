/**
 * The vault's audit trail and alarms: what the trail logs (selectors evaluated record by record), what raises an
 * alarm (event patterns matched against sample CloudTrail events), what a protect stack registers, and the rules
 * of the audit keys.
 */
import * as assert from "node:assert/strict";

import {
    ALARM_DATA_EVENTS,
    BUCKET_CONFIG_EVENTS,
    KEY_EVENTS,
    TRAIL_EVENTS,
    VAULT_DATA_EVENTS,
    alarmPatterns,
    trailSelectors,
} from "../components/audit-events";
import { logBucketPolicy } from "../components/audit";
import { ConfigError, RawConfig, parseConfigWithWarnings } from "../components/config";
import { ProgramRun, runProgram } from "../engine";
import { evaluatePack } from "../policies/gate/evaluate";
import { analyzedResources } from "../policies/gate/recording";
import { vaultAuditLogLocked } from "../policies/rules/vault-audit-log-locked";
import { STACK_REFERENCES, STACK_SECRETS, policyOf } from "./fixtures";
import { apiCall, logged, matching } from "./event-pattern";

const VAULT = "acme-gitops-dr-vault";
const REPLICA = "acme-gitops-dr-vault-replica";
const LOG = "acme-gitops-dr-vault-audit";
const KEY = "arn:aws:kms:eu-west-1:444455556666:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const TRAIL = { name: `gitops-dr-${VAULT}`, arn: `arn:aws:cloudtrail:eu-west-1:444455556666:trail/gitops-dr-${VAULT}` };
const PATTERNS = alarmPatterns({ vaultBuckets: [VAULT, REPLICA], logBucket: LOG, keyArns: [KEY], trail: TRAIL });

const s3 = (eventName: string, requestParameters: Record<string, unknown>, errorCode?: string) =>
    apiCall({ service: "s3", eventName, requestParameters, errorCode });
const object = (eventName: string, extra: Record<string, unknown> = {}, errorCode?: string) =>
    apiCall({
        service: "s3",
        eventName,
        category: "Data",
        requestParameters: { bucketName: VAULT, key: "prod-eu-1/kopia/shop/p0123", ...extra },
        errorCode,
    });

describe("audit: the alarms' event patterns", () => {
    for (const name of ALARM_DATA_EVENTS) {
        it(`${name} on the vault raises the objects alarm`, () => {
            assert.deepEqual(matching(PATTERNS, object(name)), ["objects"]);
        });
    }

    it("a DeleteObject naming a version raises it; Velero's delete by key (a delete marker) does not", () => {
        assert.deepEqual(matching(PATTERNS, object("DeleteObject", { versionId: "3HL4kqtJlcpXroDTDmJ" })), ["objects"]);
        assert.deepEqual(matching(PATTERNS, object("DeleteObject")), []);
    });

    it("a GetObject or PutObject raises nothing, and neither do deletes in another bucket", () => {
        assert.deepEqual(matching(PATTERNS, object("GetObject")), []);
        assert.deepEqual(matching(PATTERNS, object("PutObject")), []);
        const elsewhere = apiCall({
            service: "s3",
            eventName: "DeleteObjects",
            category: "Data",
            requestParameters: { bucketName: "acme-scratch" },
        });
        assert.deepEqual(matching(PATTERNS, elsewhere), []);
    });

    for (const name of BUCKET_CONFIG_EVENTS) {
        it(`${name} on the vault, the replica or the log bucket raises the config alarm`, () => {
            for (const bucketName of [VAULT, REPLICA, LOG]) {
                assert.deepEqual(matching(PATTERNS, s3(name, { bucketName })), ["config"], bucketName);
            }
            assert.deepEqual(matching(PATTERNS, s3(name, { bucketName: "acme-scratch" })), []);
        });
    }

    for (const name of KEY_EVENTS) {
        it(`${name} on the vault's key raises the key alarm, whether named by ARN or id`, () => {
            const byArn = apiCall({
                service: "kms",
                eventName: name,
                requestParameters: { keyId: "alias/vault" },
                resources: [{ accountId: "444455556666", type: "AWS::KMS::Key", ARN: KEY }],
            });
            assert.deepEqual(matching(PATTERNS, byArn), ["key"]);
            const byId = apiCall({ service: "kms", eventName: name, requestParameters: { keyId: KEY.split("/")[1] } });
            assert.deepEqual(matching(PATTERNS, byId), ["key"]);
            const other = apiCall({
                service: "kms",
                eventName: name,
                requestParameters: { keyId: "arn:aws:kms:eu-west-1:444455556666:key/other" },
            });
            assert.deepEqual(matching(PATTERNS, other), []);
        });
    }

    for (const name of TRAIL_EVENTS) {
        it(`${name} on the trail raises the trail alarm`, () => {
            // As CloudTrail records each: PutEventSelectors names the trail `trailName`, the others `name`.
            const field = name === "PutEventSelectors" ? "trailName" : "name";
            for (const ref of [TRAIL.name, TRAIL.arn]) {
                assert.deepEqual(
                    matching(
                        PATTERNS,
                        apiCall({ service: "cloudtrail", eventName: name, requestParameters: { [field]: ref } }),
                    ),
                    ["trail"],
                );
            }
            assert.deepEqual(
                matching(
                    PATTERNS,
                    apiCall({ service: "cloudtrail", eventName: name, requestParameters: { [field]: "org-trail" } }),
                ),
                [],
            );
        });
    }

    it("a refused attempt raises one alarm: its own, or `denied` for any other request on the vault", () => {
        assert.deepEqual(matching(PATTERNS, s3("PutBucketPolicy", { bucketName: VAULT }, "AccessDenied")), ["config"]);
        assert.deepEqual(matching(PATTERNS, object("DeleteObject", { versionId: "v1" }, "AccessDenied")), ["denied"]);
        // A refused delete by key is no routine delete marker: someone without Velero's grant tried.
        assert.deepEqual(matching(PATTERNS, object("DeleteObject", {}, "AccessDenied")), ["denied"]);
        assert.deepEqual(matching(PATTERNS, object("GetObject", {}, "AccessDenied")), ["denied"]);
        const decrypt = apiCall({
            service: "kms",
            eventName: "Decrypt",
            errorCode: "AccessDeniedException",
            resources: [{ type: "AWS::KMS::Key", ARN: KEY }],
        });
        assert.deepEqual(matching(PATTERNS, decrypt), ["denied"]);
        assert.deepEqual(matching(PATTERNS, s3("PutBucketPolicy", { bucketName: "acme-scratch" }, "AccessDenied")), []);
    });

    it("has no trail alarm without a trail of its own", () => {
        const patterns = alarmPatterns({ vaultBuckets: [VAULT], keyArns: [KEY] });
        assert.deepEqual(Object.keys(patterns), ["objects", "config", "key", "denied"]);
    });
});

describe("audit: what the trail logs", () => {
    const vaultArn = `arn:aws:s3:::${VAULT}`;
    const replicaArn = `arn:aws:s3:::${REPLICA}`;
    const selectors = trailSelectors([vaultArn, replicaArn], true);
    const dataRecord = (eventName: string, arn: string, readOnly = false) => ({
        eventCategory: "Data" as const,
        eventName,
        readOnly,
        resources: [
            { type: "AWS::S3::Object", ARN: arn },
            { type: "AWS::S3::Bucket", ARN: arn.split("/")[0] },
        ],
    });

    for (const name of VAULT_DATA_EVENTS) {
        it(`logs ${name} on objects of the vault and its replica, not of another bucket`, () => {
            assert.equal(logged(selectors, dataRecord(name, `${vaultArn}/prod-eu-1/backups/x`)), true);
            assert.equal(logged(selectors, dataRecord(name, `${replicaArn}/prod-eu-1/backups/x`)), true);
            assert.equal(logged(selectors, dataRecord(name, "arn:aws:s3:::acme-gitops-dr-vault-other/x")), false);
        });
    }

    it("does not log reads or writes of backups (the bulk of the vault's requests)", () => {
        for (const name of ["GetObject", "PutObject", "HeadObject", "UploadPart"]) {
            assert.equal(
                logged(selectors, dataRecord(name, `${vaultArn}/prod-eu-1/kopia/p1`, name !== "PutObject")),
                false,
                name,
            );
        }
    });

    it("logs write management events only in a vault account of its own", () => {
        const putPolicy = {
            eventCategory: "Management" as const,
            eventName: "PutBucketPolicy",
            readOnly: false,
            resources: [],
        };
        const describe = { ...putPolicy, eventName: "DescribeKey", readOnly: true };
        assert.equal(logged(selectors, putPolicy), true);
        assert.equal(logged(selectors, describe), false);
        assert.equal(logged(trailSelectors([vaultArn], false), putPolicy), false);
    });

    it("lets CloudTrail write only this trail's logs, only over TLS", () => {
        const policy = logBucketPolicy(`arn:aws:s3:::${LOG}`, "444455556666", TRAIL.arn);
        const write = policy.Statement.find((s) => s.Sid === "CloudTrailWrite")!;
        assert.equal(write.Resource, `arn:aws:s3:::${LOG}/AWSLogs/444455556666/*`);
        assert.deepEqual(write.Condition, {
            StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL.arn },
        });
        assert.deepEqual(
            policy.Statement.map((s) => s.Sid),
            ["DenyInsecureTransport", "CloudTrailAclCheck", "CloudTrailWrite"],
        );
    });
});

describe("audit: what a protect stack registers", () => {
    let prod: ProgramRun;
    before(async () => {
        prod = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { alertEmails: ["oncall@acme.example", "backup@acme.example"] },
        });
    });
    const audit = (type: string, suffix: string) => prod.one(type, `gitops-dr-prod-audit${suffix}`);

    it("writes the trail into a log bucket of its own, locked in the vault's mode for auditLogDays", () => {
        const bucket = audit("aws:s3/bucket:Bucket", "-log-bucket");
        assert.equal(bucket.inputs.bucket, LOG);
        assert.equal(bucket.inputs.objectLockEnabled, true);
        assert.equal(bucket.inputs.forceDestroy, false);
        const lock = audit("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "-log-lock");
        assert.deepEqual(lock.inputs.rule, { defaultRetention: { mode: "COMPLIANCE", days: 365 } });
        const trail = audit("aws:cloudtrail/trail:Trail", "-trail");
        assert.equal(trail.inputs.s3BucketName, bucket.outputs.id ?? LOG);
        assert.deepEqual(trail.propertyDependencies.s3BucketName, [bucket.urn]);
        assert.equal(trail.inputs.isMultiRegionTrail, true);
        assert.equal(trail.inputs.enableLogFileValidation, true);
        assert.equal(trail.protect, true);
        assert.equal(bucket.retainOnDelete, true);
    });

    it("selects only the vault's and the replica's objects, and no management events in the cluster's account", () => {
        const trail = audit("aws:cloudtrail/trail:Trail", "-trail");
        const selectors = trail.inputs.advancedEventSelectors as {
            fieldSelectors: { field: string; startsWiths?: string[] }[];
        }[];
        assert.equal(selectors.length, 1);
        const arns = selectors[0].fieldSelectors.find((f) => f.field === "resources.ARN")!.startsWiths;
        assert.deepEqual(arns, [`arn:aws:s3:::${VAULT}/`, `arn:aws:s3:::${REPLICA}/`]);
    });

    for (const [where, prefix, region, kinds] of [
        ["the vault's region", "gitops-dr-prod-audit", "eu-west-1", ["config", "denied", "key", "objects", "trail"]],
        [
            "the replica's region",
            "gitops-dr-prod-audit-replica",
            "eu-central-1",
            ["config", "denied", "key", "objects"],
        ],
    ] as const) {
        it(`${where}: each alarm rule sends to its region's topic, which only those rules may publish to; alertEmails subscribed`, () => {
            const rules = prod
                .ofType("aws:cloudwatch/eventRule:EventRule")
                .filter((r) => kinds.some((k) => r.name === `${prefix}-${k}`));
            assert.deepEqual(
                rules.map((r) => r.name).sort(),
                kinds.map((k) => `${prefix}-${k}`),
            );
            assert.ok(rules.every((r) => r.inputs.region === region));
            const topic = prod.one("aws:sns/topic:Topic", `${prefix}-alarms`);
            assert.equal(topic.inputs.region, region);
            for (const kind of kinds) {
                const target = prod.one("aws:cloudwatch/eventTarget:EventTarget", `${prefix}-${kind}`);
                assert.equal(target.inputs.arn, topic.outputs.arn, target.name);
                assert.equal(target.inputs.region, region);
            }
            // The replica's events reach EventBridge only in its region: its rules there name its key too.
            for (const key of ["gitops-dr-prod-vault-key", "gitops-dr-prod-vault-replica-key"]) {
                const arn = String(prod.one("aws:kms/key:Key", key).outputs.arn);
                const pattern = JSON.parse(
                    String(prod.one("aws:cloudwatch/eventRule:EventRule", `${prefix}-key`).inputs.eventPattern),
                ) as { detail: { $or: { resources?: { ARN: string[] } }[] } };
                assert.ok(pattern.detail.$or[0].resources!.ARN.includes(arn), key);
            }
            const objects = JSON.parse(
                String(prod.one("aws:cloudwatch/eventRule:EventRule", `${prefix}-objects`).inputs.eventPattern),
            ) as { detail: { $or: { requestParameters: { bucketName: string[] } }[] } };
            assert.ok(objects.detail.$or[0].requestParameters.bucketName.includes(REPLICA));
            const policy = policyOf(prod.one("aws:sns/topicPolicy:TopicPolicy", `${prefix}-alarms`).inputs.policy);
            const sources = policy.Statement[0].Condition!.ArnEquals["aws:SourceArn"] as string[];
            assert.deepEqual([...sources].sort(), rules.map((r) => String(r.outputs.arn)).sort());
            assert.ok(sources.every((arn) => arn.startsWith(`arn:aws:events:${region}:`)));
            const subscriptions = prod
                .ofType("aws:sns/topicSubscription:TopicSubscription")
                .filter((s) => s.name.startsWith(`${prefix}-email-`));
            assert.deepEqual(
                subscriptions.map((s) => [s.inputs.region, s.inputs.protocol, s.inputs.endpoint]),
                [
                    [region, "email", "oncall@acme.example"],
                    [region, "email", "backup@acme.example"],
                ],
            );
        });
    }

    it("without a replica, alarms in the vault's region only", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { replicaRegion: null } });
        assert.deepEqual(
            run.ofType("aws:cloudwatch/eventRule:EventRule").map((r) => r.inputs.region),
            Array(5).fill("eu-west-1"),
        );
        assert.equal(run.ofType("aws:sns/topic:Topic").length, 1);
    });

    it("policy vault-audit-log-locked: passes the stack, reports a log bucket without Object Lock or retention", async () => {
        const resources = analyzedResources(prod);
        const judge = async (changed: typeof resources) =>
            (await evaluatePack(changed, [vaultAuditLogLocked], {})).violations.map((v) => v.message);
        assert.deepEqual(await judge(resources), []);
        const unlocked = resources.map((r) =>
            r.name === "gitops-dr-prod-audit-log-bucket"
                ? { ...r, outputs: { ...r.outputs, objectLockEnabled: false } }
                : r,
        );
        assert.deepEqual(await judge(unlocked), [
            "The audit trail's log bucket must be created with Object Lock and a default retention: an attacker with the vault account's credentials must not be able to delete the record of the attack. Found: Bucket gitops-dr-prod-audit-log-bucket has objectLockEnabled false. Fix: Create the log bucket with objectLockEnabled: true (only possible at creation: a new bucket).",
        ]);
        const noRetention = resources.filter((r) => r.name !== "gitops-dr-prod-audit-log-lock");
        assert.equal((await judge(noRetention)).length, 1);
        assert.match(
            (await judge(noRetention))[0],
            /Found: no BucketObjectLockConfiguration with a default retention configures Bucket gitops-dr-prod-audit-log-bucket/,
        );
    });

    it("with auditTrail false keeps the alarms but makes no trail or log bucket", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { auditTrail: false } });
        assert.equal(run.ofType("aws:cloudtrail/trail:Trail").length, 0);
        assert.equal(run.ofType("aws:s3/bucket:Bucket").filter((b) => b.name.includes("audit")).length, 0);
        // Four in the vault's region, four in the replica's.
        assert.equal(run.ofType("aws:cloudwatch/eventRule:EventRule").length, 8);
    });

    it("a drill makes none of it", async () => {
        const run = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        assert.equal(run.ofType("aws:cloudwatch/eventRule:EventRule").length, 0);
        assert.equal(run.ofType("aws:cloudtrail/trail:Trail").length, 0);
    });
});

// --- Config rules ---------------------------------------------------------------------------------------------

const plain = (value: string) => ({ value, secret: false });
const PROTECT: RawConfig = {
    mode: plain("protect"),
    clusterName: plain("prod-eu-1"),
    region: plain("eu-west-1"),
    bucketName: plain("acme-velero-vault"),
    oidcProviderArn: plain("arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"),
    repoPassword: { value: "kopia-repo-password-0123456789", secret: true },
    gitRepoUrl: plain("https://github.com/acme/platform-gitops.git"),
    breakGlassPrincipalArns: plain('["arn:aws:iam::111122223333:role/vault-break-glass"]'),
};

function problemOf(raw: RawConfig, key: string): string {
    try {
        parseConfigWithWarnings(raw, "prod");
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

describe("audit: config rules", () => {
    it("defaults: a trail, a log bucket named after the vault, 365 days, no addresses", () => {
        const { config, warnings } = parseConfigWithWarnings(PROTECT, "prod");
        assert.deepEqual(config.audit, {
            trail: true,
            alertEmails: [],
            logBucketName: "acme-velero-vault-audit",
            logDays: 365,
        });
        assert.deepEqual(warnings, []);
    });

    it("refuses an entry of alertEmails that is no address", () => {
        assert.match(
            problemOf({ ...PROTECT, alertEmails: plain('["oncall@acme.example", "oncall"]') }, "alertEmails"),
            /entry "oncall" is not an e-mail address\. Fix: `pulumi config set --path 'gitops-dr:alertEmails\[0\]' backup-alarms@example.com`/,
        );
    });

    it("refuses an address listed twice", () => {
        assert.match(
            problemOf({ ...PROTECT, alertEmails: plain('["a@acme.example", "a@acme.example"]') }, "alertEmails"),
            /names "a@acme\.example" twice/,
        );
    });

    it("refuses a default log bucket name that is too long", () => {
        const long = "a".repeat(60);
        assert.match(
            problemOf({ ...PROTECT, bucketName: plain(long) }, "auditBucketName"),
            /is not a valid S3 bucket name .* the default is <bucketName>-audit/,
        );
    });

    it("refuses the vault bucket as the log bucket", () => {
        assert.match(
            problemOf({ ...PROTECT, auditBucketName: plain("acme-velero-vault") }, "auditBucketName"),
            /is a vault bucket; the trail needs a bucket of its own/,
        );
    });

    it("refuses auditLogDays out of range", () => {
        assert.match(problemOf({ ...PROTECT, auditLogDays: plain("0") }, "auditLogDays"), /out of range/);
    });

    it("warns that auditBucketName does nothing without the trail", () => {
        const { warnings } = parseConfigWithWarnings(
            { ...PROTECT, auditTrail: plain("false"), auditBucketName: plain("acme-audit") },
            "prod",
        );
        assert.deepEqual(
            warnings.map((w) => [w.key, w.message]),
            [
                [
                    "gitops-dr:auditBucketName",
                    '"acme-audit" is ignored: auditTrail is false, so no log bucket is made. Remove it with `pulumi config rm gitops-dr:auditBucketName`.',
                ],
            ],
        );
    });

    it("refuses the audit keys in a stack that joins a vault", () => {
        const joining: RawConfig = {
            ...PROTECT,
            createBucket: plain("false"),
            kmsKeyArn: plain("arn:aws:kms:eu-west-1:111122223333:key/k"),
            alertEmails: plain('["a@acme.example"]'),
        };
        assert.match(
            problemOf(joining, "alertEmails"),
            /only the stack that creates the vault \(createBucket true\) audits it/,
        );
    });
});
