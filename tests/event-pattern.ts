/**
 * EventBridge's and CloudTrail's matching, for tests, limited to what components/audit-events.ts uses and refusing
 * anything else, so a pattern cannot pass here with an operator this matcher does not implement.
 *
 * EventBridge (user guide, "Event patterns", "Content filtering"): every field of the pattern must match; a list
 * matches when any of its values does; an event array matches when any element does, arrays of objects included
 * (EventBridge flattens them); `$or` matches when any alternative does, against the same level; `exists: false`
 * matches an absent field, every other matcher needs the field; `prefix`, `anything-but` (a list of strings) and
 * exact strings compare leaf values.
 */
import type { EventPattern, EventSelector, PatternValue } from "../components/audit-events";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

function leafMatches(matcher: PatternValue, value: unknown): boolean {
    if (typeof matcher === "string") {
        return value === matcher;
    }
    const keys = Object.keys(matcher);
    if (keys.length !== 1) {
        throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
    }
    if ("prefix" in matcher) {
        return typeof value === "string" && value.startsWith(matcher.prefix);
    }
    if ("anything-but" in matcher) {
        return typeof value === "string" && !matcher["anything-but"].includes(value);
    }
    if ("exists" in matcher) {
        // Only reached for a present leaf: an absent field is handled by the caller.
        return matcher.exists && !isObject(value) && !Array.isArray(value);
    }
    throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
}

function fieldMatches(pattern: EventPattern[string], value: unknown): boolean {
    if (Array.isArray(pattern)) {
        const list = pattern as readonly PatternValue[];
        if (value === undefined) {
            return list.some((m) => typeof m === "object" && "exists" in m && !m.exists);
        }
        const values = Array.isArray(value) ? value : [value];
        return list.some((m) => values.some((v) => leafMatches(m, v)));
    }
    if (Array.isArray(value)) {
        return value.some((v) => fieldMatches(pattern, v));
    }
    return isObject(value) && matches(pattern as EventPattern, value);
}

/** Whether an EventBridge pattern matches an event. */
export function matches(pattern: EventPattern, event: Json): boolean {
    return Object.entries(pattern).every(([field, sub]) => {
        if (field === "$or") {
            return (sub as readonly EventPattern[]).some((alternative) => matches(alternative, event));
        }
        return fieldMatches(sub, event[field]);
    });
}

/** The names of the patterns that match an event. */
export function matching(patterns: Record<string, EventPattern>, event: Json): string[] {
    return Object.entries(patterns)
        .filter(([, p]) => matches(p, event))
        .map(([name]) => name);
}

/** A CloudTrail record's fields the selectors read. */
export interface TrailRecord {
    readonly eventCategory: "Management" | "Data";
    readonly eventName: string;
    readonly readOnly: boolean;
    readonly resources: readonly { readonly type: string; readonly ARN: string }[];
}

/**
 * Whether a trail with these advanced event selectors logs a record (CloudTrail API, `AdvancedFieldSelector`):
 * selectors are ORed, the field selectors of one are ANDed, `equals` and `startsWiths` list alternatives.
 */
export function logged(selectors: readonly EventSelector[], record: TrailRecord): boolean {
    const valuesOf = (field: string): string[] => {
        switch (field) {
            case "eventCategory":
                return [record.eventCategory];
            case "eventName":
                return [record.eventName];
            case "readOnly":
                return [String(record.readOnly)];
            case "resources.type":
                return record.resources.map((r) => r.type);
            case "resources.ARN":
                return record.resources.map((r) => r.ARN);
            default:
                throw new Error(`unsupported selector field ${field}`);
        }
    };
    return selectors.some((s) =>
        s.fieldSelectors.every((f) => {
            const values = valuesOf(f.field);
            const ok = (v: string) =>
                (f.equals === undefined || f.equals.includes(v)) &&
                (f.startsWiths === undefined || f.startsWiths.some((p) => v.startsWith(p)));
            return values.some(ok);
        }),
    );
}

/**
 * An "AWS API Call via CloudTrail" event as EventBridge delivers it: the CloudTrail record under `detail`
 * (CloudTrail user guide, "CloudTrail record contents"; S3's records carry `bucketName`, `key` and, for a
 * version, `versionId` in `requestParameters`; KMS's list the key in `resources`).
 */
export function apiCall(fields: {
    service: "s3" | "kms" | "cloudtrail";
    eventName: string;
    requestParameters?: Json;
    resources?: readonly Json[];
    errorCode?: string;
    category?: "Management" | "Data";
}): Json {
    return {
        version: "0",
        id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        source: `aws.${fields.service}`,
        account: "444455556666",
        time: "2026-12-02T03:04:05Z",
        region: "eu-west-1",
        resources: [],
        detail: {
            eventVersion: "1.10",
            userIdentity: {
                type: "AssumedRole",
                arn: "arn:aws:sts::111122223333:assumed-role/admin/mallory",
                accountId: "111122223333",
            },
            eventTime: "2026-12-02T03:04:05Z",
            eventSource: `${fields.service}.amazonaws.com`,
            eventName: fields.eventName,
            awsRegion: "eu-west-1",
            sourceIPAddress: "203.0.113.7",
            requestParameters: fields.requestParameters ?? null,
            responseElements: null,
            ...(fields.errorCode === undefined
                ? {}
                : { errorCode: fields.errorCode, errorMessage: "User is not authorized to perform this action" }),
            ...(fields.resources === undefined ? {} : { resources: fields.resources }),
            eventCategory: fields.category ?? "Management",
            managementEvent: (fields.category ?? "Management") === "Management",
            readOnly: false,
            recipientAccountId: "444455556666",
        },
    };
}
