/**
 * Validators for values that other tools parse: Go durations and robfig/cron schedules as Velero reads them,
 * AWS regions, ARNs and names as AWS accepts them, Kubernetes names as the API server accepts them.
 */
import * as aws from "@pulumi/aws";
import { CronExpressionParser } from "cron-parser";
import { closest } from "fastest-levenshtein";

// --- Go durations --------------------------------------------------------------------------------------------

/** Nanoseconds per unit of Go's `time.ParseDuration` (go `src/time/format.go`, `unitMap`). */
const GO_UNITS: Readonly<Record<string, bigint>> = {
    ns: 1n,
    us: 1_000n,
    µs: 1_000n, // U+00B5 micro sign
    μs: 1_000n, // U+03BC Greek mu
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
};

/** 1<<63: Go keeps durations in an int64 of nanoseconds, so about 2562047h is the longest. */
const MAX_DURATION_NS = 1n << 63n;

/**
 * Hours in a Go duration string (`720h`, `36.5h`, `1h30m`, `90m`), or undefined when `time.ParseDuration` would
 * refuse it. Velero's `ttl` fields are `metav1.Duration`, which unmarshals with `time.ParseDuration`. Follows go
 * `src/time/format.go` `ParseDuration` step by step: an optional sign, then one or more decimal numbers each with
 * a unit (a digit before or after the dot; the unit is every character up to the next digit or dot, looked up in
 * `unitMap`); "0" alone is allowed; no days; an int64 of nanoseconds must hold it (`leadingInt`,
 * `leadingFraction` and the overflow checks). A negative duration parses but keeps no backup; callers check the sign.
 */
export function parseDurationHours(value: string): number | undefined {
    let s = value;
    let neg = false;
    if (s.startsWith("-") || s.startsWith("+")) {
        neg = s.startsWith("-");
        s = s.slice(1);
    }
    if (s === "0") {
        return 0;
    }
    if (s === "") {
        return undefined;
    }
    let d = 0n;
    while (s !== "") {
        // [0-9]*(\.[0-9]*)? then the unit; the regex always matches, possibly empty.
        const number = /^(\d*)(?:\.(\d*))?/.exec(s)!;
        const [intDigits, fracDigits] = [number[1], number[2] ?? ""];
        if (intDigits === "" && fracDigits === "") {
            return undefined; // not [0-9.] first, or no digits around the dot (".h")
        }
        s = s.slice(number[0].length);
        let i = 0;
        while (i < s.length && s[i] !== "." && !(s[i] >= "0" && s[i] <= "9")) {
            i++;
        }
        const unit = GO_UNITS[s.slice(0, i)];
        if (unit === undefined) {
            return undefined; // "missing unit" (i == 0) or "unknown unit" (d, w, hh)
        }
        s = s.slice(i);
        const v = BigInt(intDigits === "" ? "0" : intDigits);
        if (v > MAX_DURATION_NS || v > MAX_DURATION_NS / unit) {
            return undefined; // leadingInt's overflow, then `v > 1<<63/unit`
        }
        let part = v * unit;
        // leadingFraction: digits accumulate while they fit, the rest are consumed and ignored.
        let f = 0n;
        let scale = 1;
        let overflow = false;
        for (const c of fracDigits) {
            if (overflow || f > (MAX_DURATION_NS - 1n) / 10n || f * 10n + BigInt(c) > MAX_DURATION_NS) {
                overflow = true;
                continue;
            }
            f = f * 10n + BigInt(c);
            scale *= 10;
        }
        if (f > 0n) {
            // float64 as in Go: v += uint64(float64(f) * (float64(unit) / scale)).
            part += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
            if (part > MAX_DURATION_NS) {
                return undefined;
            }
        }
        d += part;
        if (d > MAX_DURATION_NS) {
            return undefined;
        }
    }
    if (!neg && d > MAX_DURATION_NS - 1n) {
        return undefined;
    }
    const hours = Number(d) / Number(GO_UNITS.h);
    return neg && hours !== 0 ? -hours : hours;
}

// --- robfig/cron v3 ParseStandard ----------------------------------------------------------------------------

interface CronBounds {
    readonly min: number;
    readonly max: number;
    readonly names?: Readonly<Record<string, number>>;
}

const MONTHS: Readonly<Record<string, number>> = {
    jan: 1,
    feb: 2,
    mar: 3,
    apr: 4,
    may: 5,
    jun: 6,
    jul: 7,
    aug: 8,
    sep: 9,
    oct: 10,
    nov: 11,
    dec: 12,
};
const DAYS: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** The five fields of a standard spec and their bounds (robfig/cron v3 `spec.go`: seconds..dow bounds). */
const CRON_FIELDS: readonly { readonly name: string; readonly bounds: CronBounds }[] = [
    { name: "a minute", bounds: { min: 0, max: 59 } },
    { name: "an hour", bounds: { min: 0, max: 23 } },
    { name: "a day of month", bounds: { min: 1, max: 31 } },
    { name: "a month", bounds: { min: 1, max: 12, names: MONTHS } },
    { name: "a day of week", bounds: { min: 0, max: 6, names: DAYS } },
];

/** robfig/cron v3 `parser.go` `parseDescriptor`: the descriptors and `@every <duration>`. */
const CRON_DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** robfig/cron v3 `parser.go` `mustParseInt`: `strconv.Atoi`, then no negatives. */
function cronInt(expr: string): number | string {
    if (!/^[+-]?\d+$/.test(expr)) {
        return `failed to parse int from ${expr}`;
    }
    const n = Number(expr);
    return n < 0 ? `negative number (${n}) not allowed: ${expr}` : n;
}

/** robfig/cron v3 `parser.go` `getRange`: one comma-separated part of a field, or the reason it is refused. */
function cronRangeProblem(expr: string, r: CronBounds): string | undefined {
    const rangeAndStep = expr.split("/");
    const lowAndHigh = rangeAndStep[0].split("-");
    let start: number;
    let end: number;
    if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
        // `?` is a star in every field (getRange: `lowAndHigh[0] == "*" || lowAndHigh[0] == "?"`).
        [start, end] = [r.min, r.max];
    } else {
        const named = (x: string) => r.names?.[x.toLowerCase()] ?? cronInt(x);
        const low = named(lowAndHigh[0]);
        if (typeof low === "string") {
            return low;
        }
        start = low;
        if (lowAndHigh.length === 1) {
            end = start;
        } else if (lowAndHigh.length === 2) {
            const high = named(lowAndHigh[1]);
            if (typeof high === "string") {
                return high;
            }
            end = high;
        } else {
            return `too many hyphens: ${expr}`;
        }
    }
    if (rangeAndStep.length > 2) {
        return `too many slashes: ${expr}`;
    }
    let step = 1;
    if (rangeAndStep.length === 2) {
        const parsed = cronInt(rangeAndStep[1]);
        if (typeof parsed === "string") {
            return parsed;
        }
        step = parsed;
        // "N/step" means "N-max/step".
        if (lowAndHigh.length === 1) {
            end = r.max;
        }
    }
    if (start < r.min) {
        return `beginning of range (${start}) below minimum (${r.min}): ${expr}`;
    }
    if (end > r.max) {
        return `end of range (${end}) above maximum (${r.max}): ${expr}`;
    }
    if (start > end) {
        return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
    }
    if (step === 0) {
        return `step of range should be a positive number: ${expr}`;
    }
    return undefined;
}

/**
 * Why Go's `time.LoadLocation` would refuse the zone `name`, or undefined. Go reads the zoneinfo file of exactly
 * that name, so the match is case-sensitive, while ICU (behind `Intl`) matches case-insensitively: a name Intl
 * knows is accepted only as the tz database spells it (every component starts with a capital, as in
 * `Europe/Paris`, `UTC`, `EST5EDT`), and a case variant of a canonical name is refused with that name.
 */
function timeZoneProblem(name: string): string | undefined {
    const refused = `names the time zone ${JSON.stringify(name)}, which is not an IANA time zone`;
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: name });
    } catch {
        return refused;
    }
    const canonical = Intl.supportedValuesOf("timeZone").find((z) => z.toLowerCase() === name.toLowerCase());
    if (canonical !== undefined && canonical !== name) {
        return `${refused} (time zone names are case-sensitive; did you mean ${canonical}?)`;
    }
    return name.split("/").every((c) => /^[A-Z]/.test(c))
        ? undefined
        : `${refused} (time zone names are case-sensitive)`;
}

/**
 * Why Velero would refuse `spec` as a Schedule's `schedule`, or undefined when it accepts it. Velero passes the
 * field as is, untrimmed, to robfig/cron v3 `cron.ParseStandard` (velero `pkg/controller/schedule_controller.go`,
 * `parseCronSchedule`); this follows that parser (`parser.go` `Parse`, `getField`, `getRange`,
 * `parseDescriptor`): an optional `CRON_TZ=`/`TZ=` prefix, then a descriptor matched exactly (`@daily`, ...,
 * `@every <Go duration>`) or exactly five whitespace-separated fields; in each field `*` or `?`, numbers or
 * names, ranges, steps and lists; day of week 0-6. No `L`, `W`, `#` or `H`. Stricter than the parser in two
 * places: an `@every` interval of zero or less, which robfig/cron runs every second (`constantdelay.go`, `Every`),
 * and a field of only commas, which it parses as matching nothing (`spec.go` `Next` then finds no time, unless
 * the other day field matches).
 */
export function cronProblem(spec: string): string | undefined {
    if (spec === "") {
        return "is empty";
    }
    let s = spec;
    // Only a spec that starts with the prefix has a time zone; the zone ends at the first space (`Parse`).
    if (s.startsWith("TZ=") || s.startsWith("CRON_TZ=")) {
        const space = s.indexOf(" ");
        if (space < 0) {
            // robfig/cron slices spec[eq+1:-1] here and panics; Velero recovers and refuses the schedule.
            return "has a time zone prefix but no schedule after it";
        }
        const issue = timeZoneProblem(s.slice(s.indexOf("=") + 1, space));
        if (issue !== undefined) {
            return issue;
        }
        s = s.slice(space).trim();
    }
    if (s.startsWith("@")) {
        if (CRON_DESCRIPTORS.has(s)) {
            return undefined;
        }
        if (s.startsWith("@every ")) {
            const hours = parseDurationHours(s.slice("@every ".length));
            return hours === undefined || hours <= 0
                ? "has an @every interval that is not a positive Go duration (e.g. @every 12h)"
                : undefined;
        }
        return `is an unrecognized descriptor; Velero takes ${[...CRON_DESCRIPTORS].join(", ")} or @every <duration>`;
    }
    const fields = s.split(/\s+/).filter((f) => f !== ""); // strings.Fields
    if (fields.length !== 5) {
        return `has ${fields.length} field${fields.length === 1 ? "" : "s"}; Velero takes exactly 5 (minute hour day-of-month month day-of-week)`;
    }
    for (let i = 0; i < 5; i++) {
        const parts = fields[i].split(",").filter((p) => p !== ""); // getField: strings.FieldsFunc on ','
        if (parts.length === 0) {
            // The parser takes a field of only commas as matching nothing; refused as certainly a mistake.
            return `has ${CRON_FIELDS[i].name} field that matches nothing (${JSON.stringify(fields[i])})`;
        }
        for (const part of parts) {
            const issue = cronRangeProblem(part, CRON_FIELDS[i].bounds);
            if (issue !== undefined) {
                return `has ${CRON_FIELDS[i].name} field Velero's cron parser refuses (${issue})`;
            }
        }
    }
    return undefined;
}

/** The fewest hours a backup schedule may leave between two runs: every backup is locked for lockDays and billed. */
export const MIN_BACKUP_INTERVAL_HOURS = 1;

/**
 * The shortest gap between two consecutive runs of a cron spec `cronProblem` accepts, in hours, over the runs of
 * a year (bounded), or undefined when the spec cannot be evaluated. A time zone prefix does not change gaps.
 */
export function shortestGapHours(spec: string): number | undefined {
    const s = spec.trim().replace(/^(CRON_TZ|TZ)=\S+\s+/, "");
    if (s.startsWith("@every ")) {
        return parseDurationHours(s.slice("@every ".length));
    }
    const expression =
        {
            "@yearly": "0 0 1 1 *",
            "@annually": "0 0 1 1 *",
            "@monthly": "0 0 1 * *",
            "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *",
            "@midnight": "0 0 * * *",
            "@hourly": "0 * * * *",
        }[s] ?? s;
    try {
        const runs = CronExpressionParser.parse(expression, { currentDate: new Date(Date.UTC(2025, 0, 1)), tz: "UTC" });
        let previous = runs.next().getTime();
        let shortest = Infinity;
        // 2000 runs cover a year of hourly runs' worth of distinct gaps; a per-minute spec shows at the first.
        for (let i = 0; i < 2000 && previous < Date.UTC(2026, 0, 1); i++) {
            const next = runs.next().getTime();
            shortest = Math.min(shortest, next - previous);
            previous = next;
        }
        return shortest === Infinity ? undefined : shortest / 3_600_000;
    } catch {
        return undefined;
    }
}

// --- AWS -----------------------------------------------------------------------------------------------------

/** Every region the pinned @pulumi/aws knows (`aws.Region`). */
export const AWS_REGIONS: readonly string[] = Object.values(aws.Region);

/**
 * The shape of an AWS region name, for regions newer than the provider (`allowUnlistedRegion`): one or two words
 * between the area and the number, as in `eu-west-1` and the European Sovereign Cloud's `eusc-de-east-1`.
 */
const REGION_SHAPE = /^[a-z]{2,4}(-gov|-iso[a-z]?)?(-[a-z]+){1,2}-\d{1,2}$/;

/** Why `region` is not an AWS region, or undefined. Suggests the closest known one. */
export function regionProblem(region: string, allowUnlisted: boolean): string | undefined {
    if (AWS_REGIONS.includes(region)) {
        return undefined;
    }
    if (allowUnlisted && REGION_SHAPE.test(region)) {
        return undefined;
    }
    const guess = closest(region.toLowerCase(), [...AWS_REGIONS]); // regions are lowercase; EU-WEST-1 means eu-west-1
    return allowUnlisted
        ? `is not shaped like an AWS region (e.g. ${guess}).`
        : `is not an AWS region the pinned @pulumi/aws knows; did you mean ${guess}? (A region newer than the provider: set gitops-dr:allowUnlistedRegion true.)`;
}

export const KMS_KEY_ARN = /^arn:aws[-a-z]*:kms:([a-z0-9-]+):(\d{12}):key\/[A-Za-z0-9-]+$/;
export const OIDC_PROVIDER_ARN =
    /^arn:aws[-a-z]*:iam::\d{12}:oidc-provider\/oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/id\/[A-Za-z0-9]+$/;

/** An IAM role or user ARN (a path allowed), as `aws:PrincipalArn` names a caller; no wildcard, not a session. */
export const IAM_PRINCIPAL_ARN = /^arn:aws[-a-z]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

/** The region part of an ARN (`arn:partition:service:<region>:...`). */
export function arnRegion(arn: string): string {
    return arn.split(":")[3] ?? "";
}

/** Whether `name` is a valid S3 general purpose bucket name (AWS "Bucket naming rules"). */
export function isValidBucketName(name: string): boolean {
    return (
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
        !name.includes("..") &&
        !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
        !name.startsWith("xn--") &&
        !name.startsWith("sthree-") &&
        !name.startsWith("amzn-s3-demo-") &&
        !name.endsWith("-s3alias") &&
        !name.endsWith("--ol-s3") &&
        !name.endsWith(".mrap") &&
        !name.endsWith("--x-s3") &&
        !name.endsWith("--table-s3")
    );
}

// --- Kubernetes and names ------------------------------------------------------------------------------------

export { DNS_LABEL, isDnsLabel } from "../names";

/** A label key (optional DNS-subdomain prefix, then a name of at most 63) as the API server accepts it. */
export function isLabelKey(key: string): boolean {
    const slash = key.lastIndexOf("/");
    const [prefix, name] = slash < 0 ? ["", key] : [key.slice(0, slash), key.slice(slash + 1)];
    const nameOk = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name) && name.length <= 63;
    const prefixOk = prefix === "" || (/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix) && prefix.length <= 253);
    return nameOk && prefixOk;
}

/** A label value: empty, or at most 63 alphanumerics with `-_.` inside. */
export const isLabelValue = (v: string): boolean =>
    v === "" || (/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v) && v.length <= 63);

/** A fully qualified stack name as StackReference takes it: `org/project/stack` (or `project/stack`, `stack`). */
export const STACK_NAME = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/;

/** An S3 key prefix of path segments, no leading or trailing slash. */
export const PREFIX = /^[A-Za-z0-9!_.'()-]+(\/[A-Za-z0-9!_.'()-]+)*$/;

/**
 * Why a prefix with `*` or `?` is refused: the prefix lands in IAM resource ARNs (`<bucket>/<prefix>/*`), where
 * both are wildcards, so `prod-eu-*` would let one cluster's writer delete another's backups.
 */
export function prefixWildcardProblem(prefix: string): string | undefined {
    return /[*?]/.test(prefix)
        ? `${JSON.stringify(prefix)} contains ${prefix.includes("*") ? "*" : "?"}, a wildcard in the IAM policies the prefix is written into: it would reach every prefix it matches, other clusters' backups included.`
        : undefined;
}
