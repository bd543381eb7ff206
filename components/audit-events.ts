/**
 * What the vault's audit trail records and what raises an alarm, as plain data: CloudTrail advanced event
 * selectors and EventBridge event patterns. Tests match the patterns against sample CloudTrail records
 * (tests/event-pattern.ts) and pin the selectors.
 *
 * Event names are CloudTrail's, which are not always the IAM action's: `PutBucketLifecycle` is logged for
 * PutBucketLifecycleConfiguration, `PutObjectLockConfiguration` for s3:PutBucketObjectLockConfiguration (S3 user
 * guide, "Amazon S3 CloudTrail events").
 */

/**
 * Object-level (data) events worth keeping: every delete, and every retention or legal-hold change. A governance
 * bypass is a header on DeleteObject, DeleteObjects or PutObjectRetention, so it is among them.
 */
export const VAULT_DATA_EVENTS = ["DeleteObject", "DeleteObjects", "PutObjectRetention", "PutObjectLegalHold"] as const;

/** Data events that always alarm: Velero and kopia never make them (they delete one key at a time, by key). */
export const ALARM_DATA_EVENTS = ["DeleteObjects", "PutObjectRetention", "PutObjectLegalHold"] as const;

/** Bucket-level (management) events that weaken or remove the vault's protections. */
export const BUCKET_CONFIG_EVENTS = [
    "DeleteBucket",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketLifecycle",
    "DeleteBucketLifecycle",
    "PutObjectLockConfiguration",
    "PutBucketReplication",
    "DeleteBucketReplication",
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "PutBucketVersioning",
    "PutBucketPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
    "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls",
] as const;

/** KMS events that make the vault unreadable or hand its key to someone else. */
export const KEY_EVENTS = [
    "DisableKey",
    "ScheduleKeyDeletion",
    "PutKeyPolicy",
    "DisableKeyRotation",
    "CreateGrant",
] as const;

/** CloudTrail events that blind the trail itself. */
export const TRAIL_EVENTS = ["StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"] as const;

/** A CloudTrail advanced event selector, as `aws.cloudtrail.Trail` takes it. */
export interface EventSelector {
    readonly name: string;
    readonly fieldSelectors: readonly {
        readonly field: string;
        readonly equals?: readonly string[];
        readonly startsWiths?: readonly string[];
    }[];
}

/**
 * What the trail logs. Data events: only {@link VAULT_DATA_EVENTS} on objects of the vault buckets (CloudTrail
 * charges for the data events a selector matches, not for the ones it filters out). Management events: the
 * write ones, only in a dedicated vault account, where they are few and the first copy is free; in a cluster's
 * own account they would be a second, paid copy of everything the cluster's account does, and the alarms do not
 * need them (EventBridge receives management events without any trail).
 */
export function trailSelectors(bucketArns: readonly string[], withManagementEvents: boolean): EventSelector[] {
    const data: EventSelector = {
        name: "Vault deletes, retention and legal-hold changes",
        fieldSelectors: [
            { field: "eventCategory", equals: ["Data"] },
            { field: "resources.type", equals: ["AWS::S3::Object"] },
            { field: "resources.ARN", startsWiths: bucketArns.map((arn) => `${arn}/`) },
            { field: "eventName", equals: [...VAULT_DATA_EVENTS] },
        ],
    };
    if (!withManagementEvents) {
        return [data];
    }
    return [
        {
            name: "Write management events of the vault account",
            fieldSelectors: [
                { field: "eventCategory", equals: ["Management"] },
                { field: "readOnly", equals: ["false"] },
            ],
        },
        data,
    ];
}

/** An EventBridge event pattern (the subset used here: exact values, prefix, exists, anything-but, $or). */
export type EventPattern = {
    readonly [field: string]: EventPattern | readonly PatternValue[] | readonly EventPattern[];
};
export type PatternValue =
    | string
    | { readonly prefix: string }
    | { readonly exists: boolean }
    | { readonly "anything-but": readonly string[] };

/** What the alarms watch. */
export interface AlarmTargets {
    /** The vault bucket and its replica. */
    readonly vaultBuckets: readonly string[];
    /** The trail's log bucket, when the trail is ours. */
    readonly logBucket?: string;
    /** ARNs of the vault's keys (CloudTrail records a KMS event's key in `resources`). */
    readonly keyArns: readonly string[];
    /** The trail's name and ARN (a request names the trail either way). */
    readonly trail?: { readonly name: string; readonly arn: string };
}

const API_CALL = "AWS API Call via CloudTrail";

/** The error codes of a request IAM, a bucket policy, a key policy or Object Lock refused. */
const DENIED: readonly PatternValue[] = [{ prefix: "AccessDenied" }];

/**
 * One pattern per concern, each delivered to the alarm topic. Each matches the attempt whether it succeeded or
 * was refused; `denied` adds every other refused request on the vault (a refused GetObject is not logged: read
 * data events are not selected, see {@link trailSelectors}).
 */
export function alarmPatterns(t: AlarmTargets): Record<string, EventPattern> {
    const buckets = [...t.vaultBuckets, ...(t.logBucket === undefined ? [] : [t.logBucket])];
    // A request names a key by ARN, id or alias; CloudTrail adds the key's ARN to `resources` when KMS resolved it.
    const keyRefs = [...t.keyArns, ...t.keyArns.map((arn) => arn.substring(arn.indexOf("/") + 1))];
    // Refusals of these raise their own alarm; a refused DeleteObject raises `denied` (Velero's own are allowed).
    const watched = [...ALARM_DATA_EVENTS, ...BUCKET_CONFIG_EVENTS, ...KEY_EVENTS, ...TRAIL_EVENTS];
    const patterns: Record<string, EventPattern> = {
        objects: {
            source: ["aws.s3"],
            "detail-type": [API_CALL],
            detail: {
                eventSource: ["s3.amazonaws.com"],
                $or: [
                    { eventName: [...ALARM_DATA_EVENTS], requestParameters: { bucketName: [...t.vaultBuckets] } },
                    // A delete naming a version removes it for good (s3:DeleteObjectVersion); Velero's deletes name
                    // only the key and add a delete marker. A refused one is `denied`'s, like every refused delete.
                    {
                        eventName: ["DeleteObject"],
                        requestParameters: { bucketName: [...t.vaultBuckets], versionId: [{ exists: true }] },
                        errorCode: [{ exists: false }],
                    },
                ],
            },
        },
        config: {
            source: ["aws.s3"],
            "detail-type": [API_CALL],
            detail: {
                eventSource: ["s3.amazonaws.com"],
                eventName: [...BUCKET_CONFIG_EVENTS],
                requestParameters: { bucketName: buckets },
            },
        },
        key: {
            source: ["aws.kms"],
            "detail-type": [API_CALL],
            detail: {
                eventSource: ["kms.amazonaws.com"],
                eventName: [...KEY_EVENTS],
                $or: [{ resources: { ARN: [...t.keyArns] } }, { requestParameters: { keyId: keyRefs } }],
            },
        },
        denied: {
            source: ["aws.s3", "aws.kms"],
            "detail-type": [API_CALL],
            detail: {
                errorCode: DENIED,
                eventName: [{ "anything-but": watched }],
                $or: [
                    { requestParameters: { bucketName: buckets } },
                    { resources: { ARN: [...t.keyArns] } },
                    { requestParameters: { keyId: keyRefs } },
                ],
            },
        },
    };
    if (t.trail !== undefined) {
        patterns.trail = {
            source: ["aws.cloudtrail"],
            "detail-type": [API_CALL],
            detail: {
                eventSource: ["cloudtrail.amazonaws.com"],
                eventName: [...TRAIL_EVENTS],
                // StopLogging, DeleteTrail and UpdateTrail record the trail as `name`; PutEventSelectors as
                // `trailName` (its API parameter is TrailName, cloudtrail API reference).
                $or: [
                    { requestParameters: { name: [t.trail.name, t.trail.arn] } },
                    { requestParameters: { trailName: [t.trail.name, t.trail.arn] } },
                ],
            },
        };
    }
    return patterns;
}
