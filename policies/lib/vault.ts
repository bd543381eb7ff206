/**
 * The vault's buckets and the resources that configure them. With `@pulumi/aws` 7 each bucket setting is a
 * resource of its own whose `bucket` input names the bucket (DESIGN §6); a setting belongs to a bucket when
 * that input came from the bucket resource (its property dependency) or names the same bucket.
 */
import { T } from "./types";
import { Node, StackView } from "./view";
import { Json, arr, at, num, obj, str } from "./values";

/**
 * Every vault bucket of the stack: gitops-dr creates none but the vault, its replica and the audit trail's log
 * bucket, which holds CloudTrail's logs and no backup ({@link logBuckets}; `vault-audit-log-locked` judges it).
 */
export function buckets(view: StackView): Node[] {
    const logs = new Set(logBuckets(view).map((b) => b.urn));
    return view.ofType(T.bucket).filter((b) => !logs.has(b.urn));
}

/** The buckets a CloudTrail trail of the stack writes its logs to (its `s3BucketName`). */
export function logBuckets(view: StackView): Node[] {
    const trails = view.ofType(T.trail);
    return view
        .ofType(T.bucket)
        .filter((b) =>
            trails.some(
                (t) =>
                    (t.propertyDependencies.s3BucketName ?? []).includes(b.urn) ||
                    (bucketName(b) !== undefined && str(t.props.s3BucketName) === bucketName(b)),
            ),
        );
}

/** The bucket's name as other resources refer to it: its `bucket` input (the id gitops-dr passes on is the name). */
export function bucketName(bucket: Node): string | undefined {
    return str(bucket.props.bucket) ?? str(bucket.props.id);
}

/** Whether a setting resource configures `bucket`. */
export function configures(setting: Node, bucket: Node): boolean {
    if ((setting.propertyDependencies.bucket ?? []).includes(bucket.urn)) {
        return true;
    }
    const name = bucketName(bucket);
    return name !== undefined && str(setting.props.bucket) === name;
}

/** The settings of one kind that configure `bucket`. */
export function settingsOf(view: StackView, bucket: Node, token: readonly string[]): Node[] {
    return view.ofType(token).filter((s) => configures(s, bucket));
}

/** The default retention of an Object Lock configuration, in days (`years` count 365 days, as S3 counts them). */
export function retentionDays(lock: Node): number | undefined {
    const retention = obj(at(lock.props, "rule", "defaultRetention"));
    if (retention === undefined) {
        return undefined;
    }
    const days = num(retention.days);
    const years = num(retention.years);
    return days ?? (years === undefined ? undefined : years * 365);
}

/** The default retention mode of an Object Lock configuration. */
export function retentionMode(lock: Node): string | undefined {
    return str(at(lock.props, "rule", "defaultRetention", "mode"));
}

/** The shortest default retention configured for `bucket` in this stack, or undefined when it has none. */
export function bucketRetentionDays(view: StackView, bucket: Node): number | undefined {
    const days = settingsOf(view, bucket, T.objectLock)
        .filter((l) => str(l.props.objectLockEnabled) === "Enabled")
        .map(retentionDays)
        .filter((d): d is number => d !== undefined);
    return days.length === 0 ? undefined : Math.min(...days);
}

/** The rules of a lifecycle configuration that are switched on. */
export function enabledRules(lifecycle: Node): Json[] {
    return (arr(lifecycle.props.rules) ?? [])
        .map(obj)
        .filter((r): r is Json => r !== undefined && str(r.status) === "Enabled");
}

/**
 * Whether a field of a provider's output is unset: the provider reads an unset nested field back zero-filled
 * (terraform-provider-aws, the plugin framework's `legacy` flatten of the lifecycle rule: `filter: {}` comes back
 * `{ prefix: "", objectSizeGreaterThan: 0, objectSizeLessThan: 0 }`), so a stack policy, which judges outputs,
 * must read `""`, `0` and `null` as the input's absence.
 */
export const unset = (v: unknown): boolean => v === undefined || v === null || v === "" || v === 0;

/**
 * Whether a lifecycle rule applies to every object: no filter, an empty filter, or an empty prefix. A rule
 * limited to a prefix, a tag or a size leaves the rest of the vault growing.
 */
export function coversWholeBucket(rule: Json): boolean {
    if (!unset(rule.prefix)) {
        return false;
    }
    const filter = obj(rule.filter);
    if (filter === undefined) {
        return true;
    }
    return (
        unset(filter.prefix) &&
        unset(filter.tag) &&
        unset(filter.and) &&
        unset(filter.objectSizeGreaterThan) &&
        unset(filter.objectSizeLessThan)
    );
}
