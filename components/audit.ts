/**
 * The vault's audit trail and alarms: a CloudTrail trail logging the vault's deletes, retention changes and
 * configuration changes into a log bucket that is itself Object-Locked, and EventBridge rules sending every such
 * attempt, allowed or refused, to an SNS topic the operators' addresses are subscribed to. Created with the
 * vault's provider, so in the vault's account.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { EventPattern, alarmPatterns, trailSelectors } from "./audit-events";
import type { LockMode } from "./config";
import { PolicyDocument, denyInsecureTransport } from "./iam";
import { closeToOthers } from "./vault";

export interface VaultAuditArgs {
    /** The vault's region: the trail, the rules and the topic are made there. */
    region: string;
    /** The vault's account id. */
    accountId: pulumi.Input<string>;
    /** `aws`, `aws-cn` or `aws-us-gov`. */
    partition: string;
    /** Names of the vault bucket and its replica. */
    bucketNames: readonly string[];
    /** ARNs of the vault's keys. */
    keyArns: readonly pulumi.Input<string>[];
    /** The trail and its log bucket; absent when an organisation trail logs the vault instead. */
    trail?: { logBucketName: string; logDays: number; lockMode: LockMode; withManagementEvents: boolean };
    /** Addresses subscribed to the alarm topic. Defaults to none. */
    alertEmails?: readonly string[];
    /** The replica's region, when it has one: its events get rules and a topic of their own there. Defaults to none. */
    replicaRegion?: string;
}

/** The log bucket's policy: CloudTrail may write this trail's logs, and only over TLS (CloudTrail user guide). */
export function logBucketPolicy(bucketArn: string, accountId: string, trailArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            denyInsecureTransport(bucketArn),
            {
                Sid: "CloudTrailAclCheck",
                Effect: "Allow",
                Principal: { Service: "cloudtrail.amazonaws.com" },
                Action: "s3:GetBucketAcl",
                Resource: bucketArn,
                Condition: { StringEquals: { "aws:SourceArn": trailArn } },
            },
            {
                Sid: "CloudTrailWrite",
                Effect: "Allow",
                Principal: { Service: "cloudtrail.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${bucketArn}/AWSLogs/${accountId}/*`,
                Condition: {
                    StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn },
                },
            },
        ],
    };
}

/** The topic's policy: only these rules may publish (SNS "Amazon EventBridge" permissions). */
export function topicPolicy(topicArn: string, ruleArns: readonly string[]): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "VaultAlarmRules",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
            },
        ],
    };
}

/** The trail, its locked log bucket, the alarm rules and their topic. */
export class VaultAudit extends pulumi.ComponentResource {
    public readonly topicArn: pulumi.Output<string>;
    /** The alarm topic in the replica's region, when the vault has a replica there. */
    public readonly replicaTopicArn?: pulumi.Output<string>;
    /** Absent when the trail is off. */
    public readonly trailArn?: pulumi.Output<string>;
    public readonly logBucketName?: pulumi.Output<string>;

    constructor(name: string, args: VaultAuditArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:vault:VaultAudit", name, {}, opts);
        const region = args.region;
        // The record of an attack must outlive the attack: kept like the vault.
        const keep: pulumi.CustomResourceOptions = { parent: this, protect: true, retainOnDelete: true };
        const bucketArn = (bucket: string) => `arn:${args.partition}:s3:::${bucket}`;

        let trail: { name: string; arn: pulumi.Output<string> } | undefined;
        let logBucket: string | undefined;
        if (args.trail !== undefined) {
            logBucket = args.trail.logBucketName;
            // CloudTrail refuses adjacent periods, underscores or dashes in a trail's name, which a bucket's may have.
            const trailName = `gitops-dr-${args.bucketNames[0]}`.replace(/[-._]{2,}/g, "-");
            const trailArn = pulumi.interpolate`arn:${args.partition}:cloudtrail:${region}:${args.accountId}:trail/${trailName}`;
            const bucket = new aws.s3.Bucket(
                `${name}-log-bucket`,
                { bucket: logBucket, region, objectLockEnabled: true, forceDestroy: false },
                keep,
            );
            const versioning = new aws.s3.BucketVersioning(
                `${name}-log-versioning`,
                { bucket: bucket.id, region, versioningConfiguration: { status: "Enabled" } },
                keep,
            );
            new aws.s3.BucketObjectLockConfiguration(
                `${name}-log-lock`,
                {
                    bucket: bucket.id,
                    region,
                    objectLockEnabled: "Enabled",
                    rule: { defaultRetention: { mode: args.trail.lockMode, days: args.trail.logDays } },
                },
                { ...keep, dependsOn: [versioning] },
            );
            new aws.s3.BucketServerSideEncryptionConfiguration(
                `${name}-log-encryption`,
                {
                    bucket: bucket.id,
                    region,
                    // Not the vault's key: disabling that key is one of the attacks these logs must show.
                    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
                },
                keep,
            );
            closeToOthers(`${name}-log`, bucket, region, keep);
            new aws.s3.BucketLifecycleConfiguration(
                `${name}-log-lifecycle`,
                {
                    bucket: bucket.id,
                    region,
                    rules: [
                        {
                            // Log files are written once: expire them when their lock ends, and the noncurrent
                            // version a day later.
                            id: "expire-logs",
                            status: "Enabled",
                            filter: {},
                            expiration: { days: args.trail.logDays },
                            noncurrentVersionExpiration: { noncurrentDays: 1 },
                        },
                        {
                            id: "remove-expired-delete-markers",
                            status: "Enabled",
                            filter: {},
                            expiration: { expiredObjectDeleteMarker: true },
                        },
                    ],
                },
                { ...keep, dependsOn: [versioning] },
            );
            const policy = new aws.s3.BucketPolicy(
                `${name}-log-policy`,
                {
                    bucket: bucket.id,
                    region,
                    policy: pulumi
                        .all([args.accountId, trailArn])
                        .apply(([accountId, arn]) =>
                            JSON.stringify(logBucketPolicy(bucketArn(logBucket!), accountId, arn)),
                        ),
                },
                keep,
            );
            const created = new aws.cloudtrail.Trail(
                `${name}-trail`,
                {
                    name: trailName,
                    region,
                    s3BucketName: bucket.id,
                    // Every region: the replica and its key are in another one.
                    isMultiRegionTrail: true,
                    includeGlobalServiceEvents: true,
                    enableLogFileValidation: true,
                    advancedEventSelectors: trailSelectors(
                        args.bucketNames.map(bucketArn),
                        args.trail.withManagementEvents,
                    ).map((s) => ({
                        name: s.name,
                        fieldSelectors: s.fieldSelectors.map((f) => ({
                            field: f.field,
                            equals: f.equals === undefined ? undefined : [...f.equals],
                            startsWiths: f.startsWiths === undefined ? undefined : [...f.startsWiths],
                        })),
                    })),
                },
                // CloudTrail checks that it may write to the bucket when the trail is created.
                { ...keep, dependsOn: [policy] },
            );
            trail = { name: trailName, arn: created.arn };
            this.trailArn = created.arn;
            this.logBucketName = bucket.bucket;
        }

        const rules = pulumi
            .all([pulumi.all([...args.keyArns]), trail?.arn ?? pulumi.output(undefined)])
            .apply(([keyArns, trailArn]) =>
                alarmPatterns({
                    vaultBuckets: args.bucketNames,
                    logBucket,
                    keyArns,
                    trail:
                        trail === undefined || trailArn === undefined ? undefined : { name: trail.name, arn: trailArn },
                }),
            );
        const kinds = ["objects", "config", "key", "denied", ...(trail === undefined ? [] : ["trail"])];
        const topic = alarms(this, name, region, kinds, rules, args);
        if (args.replicaRegion !== undefined && args.replicaRegion !== region) {
            // EventBridge delivers an API call's event only in the region where it was made, and a rule's SNS
            // target must be in the rule's region (EventBridge user guide, "Sending and receiving events between
            // AWS Regions": only event buses are cross-Region targets). So the replica's own rules and topic, in
            // its region, which also keeps them alarming while the vault's region is down. The trail's own
            // events are made in its home region only.
            this.replicaTopicArn = alarms(
                this,
                `${name}-replica`,
                args.replicaRegion,
                kinds.filter((k) => k !== "trail"),
                rules,
                args,
            ).arn;
        }
        this.topicArn = topic.arn;
        this.registerOutputs({
            topicArn: this.topicArn,
            replicaTopicArn: this.replicaTopicArn,
            trailArn: this.trailArn,
            logBucketName: this.logBucketName,
        });
    }
}

/** One region's alarms: a rule per kind, each sending to the region's topic, and the addresses subscribed to it. */
function alarms(
    parent: pulumi.Resource,
    name: string,
    region: string,
    kinds: readonly string[],
    patterns: pulumi.Output<Record<string, EventPattern>>,
    args: Pick<VaultAuditArgs, "bucketNames" | "alertEmails">,
): aws.sns.Topic {
    const topic = new aws.sns.Topic(`${name}-alarms`, { region, namePrefix: "gitops-dr-vault-alarms-" }, { parent });
    const eventRules = kinds.map((kind) => {
        const rule = new aws.cloudwatch.EventRule(
            `${name}-${kind}`,
            {
                region,
                // Not autonamed from the stack: EventBridge allows 64 characters; two vaults' prefixes never clash.
                namePrefix: `gitops-dr-vault-${kind}-`,
                description: `gitops-dr: ${kind} events on the vault ${args.bucketNames[0]} in ${region}`,
                eventPattern: patterns.apply((p) => JSON.stringify(p[kind])),
                // Refused KMS calls outside S3 (Decrypt, GenerateDataKey) are read-only management events, which
                // a rule receives only in this state (EventBridge user guide, "Receiving read-only management
                // events from AWS services"); the pattern keeps only AccessDenied ones.
                ...(kind === "denied" ? { state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" } : {}),
            },
            { parent },
        );
        new aws.cloudwatch.EventTarget(`${name}-${kind}`, { region, rule: rule.name, arn: topic.arn }, { parent });
        return rule;
    });
    new aws.sns.TopicPolicy(
        `${name}-alarms`,
        {
            region,
            arn: topic.arn,
            policy: pulumi
                .all([topic.arn, ...eventRules.map((r) => r.arn)])
                .apply(([topicArn, ...ruleArns]) => JSON.stringify(topicPolicy(topicArn, ruleArns))),
        },
        { parent },
    );
    for (const email of args.alertEmails ?? []) {
        // Named by the address: reordering the list must not replace (and so orphan) a subscription.
        new aws.sns.TopicSubscription(
            `${name}-email-${email}`,
            { region, topic: topic.arn, protocol: "email", endpoint: email },
            { parent },
        );
    }
    return topic;
}
