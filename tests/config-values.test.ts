/**
 * The validators of values that other programs parse, each case pinned to the upstream line it follows, so a
 * value gitops-dr accepts is one the consumer accepts too (and a refused one is refused there, or refused here
 * on purpose, as said):
 *
 * - Schedules: Velero's schedule controller passes `spec.schedule`, untrimmed, to robfig/cron v3
 *   `cron.ParseStandard` (velero `pkg/controller/schedule_controller.go`, `parseCronSchedule`, which turns a
 *   panic of the parser into "invalid schedule"). Lines below are robfig/cron tag v3.0.1 (commit ccba498c397b,
 *   the last v3 release; master differs only in a doc comment), `parser.go` unless another file is named.
 * - TTLs: `metav1.Duration`, i.e. Go's `time.ParseDuration` (go `src/time/format.go`: `ParseDuration`,
 *   `leadingInt`, `leadingFraction`, `unitMap`); cases name the statement of `ParseDuration` they exercise.
 * - Regions: the pinned @pulumi/aws `aws.Region` enum. Bucket names: AWS "General purpose bucket naming rules".
 */
import * as assert from "node:assert/strict";

import * as aws from "@pulumi/aws";

import {
    AWS_REGIONS,
    DERIVED_DEFAULTS,
    cronProblem,
    isValidBucketName,
    parseDurationHours,
    regionProblem,
} from "../components/config";

const FIVE_FIELDS = "Velero takes exactly 5 (minute hour day-of-month month day-of-week)";
const DESCRIPTORS = "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>";
const EVERY = "has an @every interval that is not a positive Go duration (e.g. @every 12h)";

describe("cronProblem: what robfig/cron v3 ParseStandard accepts", () => {
    const accepted: readonly (readonly [string, string])[] = [
        [
            "0 2 * * *",
            "L114-118: strings.Fields, then normalizeFields with the standard parser's five fields (L217-219)",
        ],
        ["  0  2 * *  * ", "L114: strings.Fields skips leading, trailing and repeated whitespace"],
        ["? ? ? ? ?", "L262: `?` is a star in every field, not only day of month or week"],
        ["0 2 ? * MON", "L262 and L321-328: `?` and a day name together"],
        ["*/15 1,13 * * 1-5", "L238 (comma lists), L255-256 (range and step)"],
        ["5/20 * * * *", "L293-296: `N/step` means N-max/step"],
        ["0 2 * * MON-FRI", "L267, L275 and L321-328: names on both ends of a range; spec.go L40-48"],
        ["0 2 1 JAN,jul *", "L323: names are matched lowercased; spec.go L26-39 (months)"],
        ["0 2 * * 0", "spec.go L40: day of week starts at 0 (Sunday)"],
        ["59 23 31 12 6", "spec.go L23-26, L40: the top of every range"],
        ["@yearly", "L367"],
        ["@annually", "L367"],
        ["@monthly", "L378"],
        ["@weekly", "L389"],
        ["@daily", "L400"],
        ["@midnight", "L400"],
        ["@hourly", "L411"],
        ["@every 12h", "L424-430: the rest is a Go duration (time.ParseDuration)"],
        ["@every 1h30m", "L424-430"],
        ["CRON_TZ=Europe/Paris 0 2 * * *", "L95-102: CRON_TZ= prefix, time.LoadLocation"],
        ["TZ=UTC 0 2 * * *", "L95: TZ= prefix"],
        ["CRON_TZ=America/New_York @daily", "L102 TrimSpace, then the descriptor (L106-110)"],
        ["CRON_TZ=Etc/GMT+1 0 2 * * *", "L99: any tz database name LoadLocation reads"],
    ];
    for (const [spec, upstream] of accepted) {
        it(`accepts ${JSON.stringify(spec)} (${upstream})`, () => assert.equal(cronProblem(spec), undefined));
    }

    it("accepts gitops-dr's own default schedules", () => {
        for (const cron of [
            DERIVED_DEFAULTS.backupSchedule,
            DERIVED_DEFAULTS.weeklyBackupSchedule,
            DERIVED_DEFAULTS.monthlyBackupSchedule,
        ]) {
            assert.equal(cronProblem(cron), undefined, cron);
        }
    });
});

describe("cronProblem: what robfig/cron v3 ParseStandard refuses", () => {
    const refused: readonly (readonly [string, string, string])[] = [
        ["", "is empty", "L89-91: empty spec string (Velero's parseCronSchedule refuses it first)"],
        ["   ", `has 0 fields; ${FIVE_FIELDS}`, "L185-187: expected exactly 5 fields"],
        ["0 0 2 * * *", `has 6 fields; ${FIVE_FIELDS}`, "L185-187: no seconds field in ParseStandard (L217-219)"],
        ["0 2 * *", `has 4 fields; ${FIVE_FIELDS}`, "L185-187: day of week is not optional"],
        ["daily", `has 1 field; ${FIVE_FIELDS}`, "L185-187"],
        [" @daily", `has 1 field; ${FIVE_FIELDS}`, "L106: a descriptor must start the untrimmed spec"],
        [
            "0 2 L * *",
            "has a day of month field Velero's cron parser refuses (failed to parse int from L)",
            "L331-334: no Quartz L",
        ],
        [
            "0 2 * * 5L",
            "has a day of week field Velero's cron parser refuses (failed to parse int from 5L)",
            "L331-334: no Quartz L",
        ],
        [
            "0 2 15W * *",
            "has a day of month field Velero's cron parser refuses (failed to parse int from 15W)",
            "L331-334: no Quartz W",
        ],
        [
            "0 2 * * 1#2",
            "has a day of week field Velero's cron parser refuses (failed to parse int from 1#2)",
            "L331-334: no Quartz #",
        ],
        [
            "H 2 * * *",
            "has a minute field Velero's cron parser refuses (failed to parse int from H)",
            "L331-334: no Jenkins H",
        ],
        [
            "0 2 * * MONDAY",
            "has a day of week field Velero's cron parser refuses (failed to parse int from MONDAY)",
            "L321-328: only three-letter names",
        ],
        [
            "0 2 * * 7",
            "has a day of week field Velero's cron parser refuses (end of range (7) above maximum (6): 7)",
            "spec.go L40 (dow 0-6), L307-308",
        ],
        [
            "60 2 * * *",
            "has a minute field Velero's cron parser refuses (end of range (60) above maximum (59): 60)",
            "spec.go L23, L307-308",
        ],
        [
            "0 24 * * *",
            "has an hour field Velero's cron parser refuses (end of range (24) above maximum (23): 24)",
            "spec.go L24, L307-308",
        ],
        [
            "0 2 0 * *",
            "has a day of month field Velero's cron parser refuses (beginning of range (0) below minimum (1): 0)",
            "spec.go L25, L304-305",
        ],
        [
            "0 2 32 * *",
            "has a day of month field Velero's cron parser refuses (end of range (32) above maximum (31): 32)",
            "spec.go L25, L307-308",
        ],
        [
            "0 2 * 13 *",
            "has a month field Velero's cron parser refuses (end of range (13) above maximum (12): 13)",
            "spec.go L26, L307-308",
        ],
        [
            "5-1 * * * *",
            "has a minute field Velero's cron parser refuses (beginning of range (5) beyond end of range (1): 5-1)",
            "L310-311",
        ],
        [
            "*/0 * * * *",
            "has a minute field Velero's cron parser refuses (step of range should be a positive number: */0)",
            "L313-314",
        ],
        [
            "*/-5 * * * *",
            "has a minute field Velero's cron parser refuses (negative number (-5) not allowed: -5)",
            "L288 and L336-337",
        ],
        ["1-2-3 * * * *", "has a minute field Velero's cron parser refuses (too many hyphens: 1-2-3)", "L279-280"],
        ["*/5/2 * * * *", "has a minute field Velero's cron parser refuses (too many slashes: */5/2)", "L300-301"],
        ["@reboot", `is an unrecognized descriptor; Velero takes ${DESCRIPTORS}`, "L433"],
        [
            "@daily ",
            `is an unrecognized descriptor; Velero takes ${DESCRIPTORS}`,
            "L366-367: descriptors match exactly; without a time zone nothing trims the spec",
        ],
        ["@every 1d", EVERY, "L426-428: time.ParseDuration has no days"],
        [
            "@every  12h",
            EVERY,
            'L424-426: the duration starts right after "@every ", and ParseDuration refuses a leading space',
        ],
        ["@every 0s", EVERY, "stricter on purpose: constantdelay.go L14-17 would run it every second"],
        ["@every -1h", EVERY, "stricter on purpose: constantdelay.go L14-17 would run it every second"],
        [
            "CRON_TZ=Mars/Base 0 2 * * *",
            'names the time zone "Mars/Base", which is not an IANA time zone',
            "L99-100: provided bad location",
        ],
        [
            "CRON_TZ=europe/paris 0 2 * * *",
            'names the time zone "europe/paris", which is not an IANA time zone (time zone names are case-sensitive; did you mean Europe/Paris?)',
            "L99: LoadLocation opens the zoneinfo file of exactly that name",
        ],
        [
            "TZ=utc 0 2 * * *",
            'names the time zone "utc", which is not an IANA time zone (time zone names are case-sensitive)',
            "L99",
        ],
        [
            "CRON_TZ=Europe/Paris",
            "has a time zone prefix but no schedule after it",
            "L97-99: no space, so spec[eq+1:-1] panics; Velero reports the panic as invalid",
        ],
        [" TZ=UTC 0 2 * * *", `has 6 fields; ${FIVE_FIELDS}`, "L95: the prefix is looked for in the untrimmed spec"],
        [
            "0 2 , * *",
            'has a day of month field that matches nothing (",")',
            "stricter on purpose: L238 drops empty parts, so the field matches nothing",
        ],
    ];
    for (const [spec, message, upstream] of refused) {
        it(`refuses ${JSON.stringify(spec)} (${upstream})`, () => assert.equal(cronProblem(spec), message));
    }
});

describe("parseDurationHours: Go's time.ParseDuration", () => {
    const accepted: readonly (readonly [string, number, string])[] = [
        ["720h", 720, "a number and a unit"],
        ["36.5h", 36.5, "(\\.[0-9]*)? then leadingFraction"],
        ["1.5h", 1.5, "leadingFraction"],
        ["1h30m", 1.5, "([0-9]*(\\.[0-9]*)?[a-z]+)+: several number-unit pairs"],
        ["90m", 1.5, "unitMap m"],
        ["5400s", 1.5, "unitMap s"],
        ["3600000ms", 1, "unitMap ms"],
        ["3600000000us", 1, "unitMap us"],
        ["3600000000\u00b5s", 1, "unitMap µs (U+00B5 micro sign)"],
        ["3600000000\u03bcs", 1, "unitMap μs (U+03BC Greek mu)"],
        ["3600000000000ns", 1, "unitMap ns"],
        [".5h", 0.5, "a digit after the dot is enough (pre || post)"],
        ["1.h", 1, "a digit before the dot is enough (pre || post)"],
        ["0", 0, 'special case: all that is left is "0"'],
        ["+0", 0, 'a sign, then the "0" special case'],
        ["0h", 0, "zero with a unit"],
        ["-1h", -1, "Consume [-+]? (negative: parsed, then refused by the TTL rule)"],
        ["2562047h", 2562047, "the largest whole hours an int64 of nanoseconds holds"],
    ];
    for (const [value, hours, upstream] of accepted) {
        it(`reads ${JSON.stringify(value)} as ${hours}h (${upstream})`, () =>
            assert.equal(parseDurationHours(value), hours));
    }

    it('reads "-9223372036854775808ns", the one value only a negative duration reaches (neg skips the d > 1<<63-1 check)', () => {
        assert.ok((parseDurationHours("-9223372036854775808ns") ?? 0) < -2562047);
    });

    const refused: readonly (readonly [string, string])[] = [
        ["", 's == "": invalid duration'],
        ["-", "nothing after the sign"],
        ["1d", 'unknown unit "d" (unitMap has no days)'],
        ["1w", 'unknown unit "w"'],
        ["1y", 'unknown unit "y"'],
        ["1H", 'unknown unit "H" (units are case-sensitive)'],
        ["h", "the next character must be [0-9.]"],
        [".h", 'no digits (e.g. ".s" or "-.s")'],
        ["-.h", 'no digits (e.g. ".s" or "-.s")'],
        ["1hh", 'the unit runs to the next digit or dot: unknown unit "hh"'],
        ["1h 30m", 'unknown unit "h "'],
        [" 1h", "the next character must be [0-9.]"],
        ["1", "missing unit"],
        ["00", 'missing unit: only exactly "0" is special'],
        ["1.5.5h", "missing unit before the second dot"],
        ["--1h", "one sign only"],
        ["2562048h", "overflow: v > 1<<63/unit"],
        ["9223372036854775808ns", "overflow: a positive d > 1<<63-1"],
        ["99999999999999999999h", "leadingInt overflow"],
    ];
    for (const [value, upstream] of refused) {
        it(`refuses ${JSON.stringify(value)} (${upstream})`, () => assert.equal(parseDurationHours(value), undefined));
    }
});

describe("regionProblem: regions of the pinned @pulumi/aws", () => {
    it("lists exactly the aws.Region enum", () =>
        assert.deepEqual([...AWS_REGIONS].sort(), Object.values(aws.Region).sort()));

    for (const region of ["eu-west-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1"]) {
        it(`accepts ${region}`, () => assert.equal(regionProblem(region, false), undefined));
    }

    it("refuses a misspelt region with the closest listed one (eu-wset-1 -> eu-west-1)", () => {
        assert.equal(
            regionProblem("eu-wset-1", false),
            "is not an AWS region the pinned @pulumi/aws knows; did you mean eu-west-1? (A region newer than the provider: set gitops-dr:allowUnlistedRegion true.)",
        );
    });

    it("suggests the lowercase region for an uppercase one (EU-WEST-1)", () => {
        assert.equal(
            regionProblem("EU-WEST-1", false),
            "is not an AWS region the pinned @pulumi/aws knows; did you mean eu-west-1? (A region newer than the provider: set gitops-dr:allowUnlistedRegion true.)",
        );
    });

    it("refuses an unlisted region unless allowUnlistedRegion is on", () => {
        assert.notEqual(regionProblem("eu-south-9", false), undefined);
        assert.equal(regionProblem("eu-south-9", true), undefined);
        assert.equal(
            regionProblem("eusc-de-west-1", true),
            undefined,
            "two words between area and number, like eusc-de-east-1",
        );
    });

    for (const [region, guess] of [
        ["eu-west-1a", "eu-west-1"],
        ["EU-WEST-1", "eu-west-1"],
        ["europe", "eu-north-1"],
    ]) {
        it(`still refuses ${JSON.stringify(region)} with allowUnlistedRegion: not shaped like a region`, () => {
            const problem = regionProblem(region, true);
            assert.ok(problem?.startsWith("is not shaped like an AWS region (e.g. "), problem);
            if (region !== "europe") {
                assert.equal(problem, `is not shaped like an AWS region (e.g. ${guess}).`);
            }
        });
    }
});

describe("isValidBucketName: S3 general purpose bucket naming rules", () => {
    const valid = ["acme-velero-vault", "acme.velero.vault", "abc", "a".repeat(63), "0-vault"];
    const invalid: readonly (readonly [string, string])[] = [
        ["Acme-Vault", "uppercase"],
        ["acme_vault", "underscore"],
        ["ab", "fewer than 3 characters"],
        ["a".repeat(64), "more than 63 characters"],
        ["-acme", "starts with a hyphen"],
        ["acme-", "ends with a hyphen"],
        ["acme..vault", "adjacent periods"],
        ["192.168.5.4", "formatted as an IP address"],
        ["xn--vault", "the xn-- prefix"],
        ["sthree-vault", "the sthree- prefix"],
        ["amzn-s3-demo-vault", "the amzn-s3-demo- prefix"],
        ["vault-s3alias", "the -s3alias suffix"],
        ["vault--ol-s3", "the --ol-s3 suffix"],
        ["vault.mrap", "the .mrap suffix"],
        ["vault--x-s3", "the --x-s3 suffix"],
        ["vault--table-s3", "the --table-s3 suffix"],
    ];
    for (const name of valid) {
        it(`accepts ${JSON.stringify(name.length > 20 ? `${name.length} characters` : name)}`, () =>
            assert.equal(isValidBucketName(name), true));
    }
    for (const [name, why] of invalid) {
        it(`refuses ${JSON.stringify(name.length > 20 ? `${name.length} characters` : name)}: ${why}`, () =>
            assert.equal(isValidBucketName(name), false));
    }
});
