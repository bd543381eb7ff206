/**
 * `npm run bench [-- --runs N]`: how long the offline evaluation of each shipped stack takes, and of scaled ones
 * (hundreds of excluded and restored namespaces, dozens of drill checks). Each case runs the real program on the offline engine once to
 * warm up, then N times; the table gives the median, min and max wall time in milliseconds, the number of
 * registrations and the process's peak resident set size so far. A benchmark, not a test: nothing asserts a time.
 */
import * as os from "node:os";
import { performance } from "node:perf_hooks";

import { CONFIG_KEYS } from "../components/config";
import { ConfigInput, runProgram } from "../engine";
import { LARGE_SCALE, STACKS, STACK_NAMES, Scale, StackSpec, scaledConfig, stackRunOptions } from "../engine";
import { DataPathChoice, EstimateInput, VELERO_DEFAULTS, estimateRecovery, hoursText } from "./plan/estimate";
import type { Plan } from "./plan/model";
import { planStack } from "./plan/stack";

/** One thing to time. */
export interface BenchCase {
    readonly label: string;
    readonly spec: StackSpec;
    readonly config: Readonly<Record<string, ConfigInput>>;
}

/** Every shipped stack as it is, then each scaled to `scale`. */
export function benchCases(scale: Scale = LARGE_SCALE): BenchCase[] {
    const shipped = STACK_NAMES.map((name) => ({ label: name, spec: STACKS[name], config: {} }));
    const scaled = STACK_NAMES.map((name) => {
        const config = scaledConfig(STACKS[name], scale);
        const restored = Array.isArray(config.restoreNamespaces) ? config.restoreNamespaces.length : 0;
        const excluded = Array.isArray(config.excludedNamespaces) ? config.excludedNamespaces.length : 0;
        const checks = Array.isArray(config.drillChecks) ? config.drillChecks.length : 0;
        return {
            label: `${name}, ${excluded} excluded${restored > 0 ? ` + ${restored} restored` : ""} namespaces${checks > 0 ? `, ${checks} checks` : ""}`,
            spec: STACKS[name],
            config,
        };
    });
    return [...shipped, ...scaled];
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
    if (values.length === 0) {
        throw new Error("median of no values");
    }
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Parsed command line. */
export interface BenchArgs {
    /** Timed runs per case, after one warm-up run. Defaults to 5. */
    readonly runs: number;
    /** Only the recovery-time model's table, no timing. Defaults to `false`. */
    readonly modelOnly: boolean;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
    let runs = 5;
    let modelOnly = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--model-only") {
            modelOnly = true;
            continue;
        }
        const value =
            arg === "--runs" ? argv[++i] : arg.startsWith("--runs=") ? arg.slice("--runs=".length) : undefined;
        if (value === undefined) {
            throw new Error(`unknown argument ${arg}. Usage: npm run bench -- [--runs N] [--model-only]`);
        }
        if (!/^[1-9]\d*$/.test(value)) {
            throw new Error(`--runs takes a positive integer, got ${JSON.stringify(value)}`);
        }
        runs = Number(value);
    }
    return { runs, modelOnly };
}

/** Result of one case. */
export interface BenchResult {
    readonly label: string;
    readonly firstMs: number;
    readonly timesMs: readonly number[];
    readonly resources: number;
    /** Peak resident set size of this process so far, in MiB. */
    readonly peakRssMiB: number;
}

async function timeCase(c: BenchCase, runs: number): Promise<BenchResult> {
    const options = stackRunOptions(c.spec, c.config);
    const once = async () => {
        const start = performance.now();
        const run = await runProgram(options);
        return { ms: performance.now() - start, resources: run.resources.length };
    };
    // The first run of a case also pays for loading what the earlier cases did not load.
    const first = await once();
    const timed: { ms: number; resources: number }[] = [];
    for (let i = 0; i < runs; i++) {
        timed.push(await once());
    }
    if (timed.some((t) => t.resources !== first.resources)) {
        throw new Error(`${c.label}: the number of registrations changed between runs`);
    }
    // maxRSS is in kilobytes (KiB) on Linux and macOS.
    return {
        label: c.label,
        firstMs: first.ms,
        timesMs: timed.map((t) => t.ms),
        resources: first.resources,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
}

/** The results as a Markdown table. */
export function benchTable(results: readonly BenchResult[]): string {
    const ms = (n: number) => n.toFixed(0);
    return [
        "| stack | registrations | median ms | min ms | max ms | first run ms | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
        ...results.map(
            (r) =>
                `| ${r.label} | ${r.resources} | ${ms(median(r.timesMs))} | ${ms(Math.min(...r.timesMs))} | ${ms(Math.max(...r.timesMs))} | ${ms(r.firstMs)} | ${r.peakRssMiB.toFixed(0)} |`,
        ),
    ].join("\n");
}

/**
 * The recovery-time model's cases: 3, 300 and 3,000 claims on clusters of a fitting size. The data and bandwidth
 * are typical, not measured: a homelab restoring over a 500 Mbit/s internet link, EKS clusters reading S3 in
 * their own region (a node's share of it well under its network baseline).
 */
export const RECOVERY_MODEL_CASES: readonly (EstimateInput & { readonly label: string })[] = [
    { label: "homelab", volumes: 3, nodes: 3, dataGiB: 60, throughputMiB: 60 },
    { label: "EKS", volumes: 300, nodes: 6, dataGiB: 1500, throughputMiB: 600 },
    { label: "large EKS", volumes: 3000, nodes: 30, dataGiB: 6000, throughputMiB: 3000 },
];

/** The data path gitops-dr sets by default: its config keys' defaults. */
export const GITOPS_DR_DEFAULTS: DataPathChoice = {
    label: "gitops-dr's defaults",
    loadsPerNode: CONFIG_KEYS.dataMoverConcurrency.default,
    filesPerVolume: CONFIG_KEYS.restoreParallelFiles.default,
};

/** The model's figures for each case, Velero's defaults against gitops-dr's, on `plan`'s critical path. */
export function recoveryModelTable(plan: Plan): string {
    const cell = (c: EstimateInput, choice: DataPathChoice) => {
        const e = estimateRecovery(plan, c, choice);
        return `${e.data.rounds} x ${Math.round(e.data.roundSeconds)} s: ${hoursText(e.data.seconds / 60)} | ${hoursText(e.totalMinutes)}`;
    };
    return [
        `| claims | nodes | data GiB | MiB/s | Velero defaults: rounds, data | recovery | gitops-dr defaults: rounds, data | recovery |`,
        "|---:|---:|---:|---:|---|---:|---|---:|",
        ...RECOVERY_MODEL_CASES.map(
            (c) =>
                `| ${c.volumes.toLocaleString("en-US")} (${c.label}) | ${c.nodes} | ${c.dataGiB.toLocaleString("en-US")} | ${c.throughputMiB} | ${cell(c, VELERO_DEFAULTS)} | ${cell(c, GITOPS_DR_DEFAULTS)} |`,
        ),
    ].join("\n");
}

async function modelSection(): Promise<string> {
    const { plan } = await planStack(STACKS.recover);
    return (
        `Recovery-time model (scripts/plan/estimate.ts, assumptions in MODEL_ASSUMPTIONS), on the critical path of ` +
        `stack ${plan.stack}; a model, not a measurement:\n\n${recoveryModelTable(plan)}\n`
    );
}

async function main(argv: readonly string[]): Promise<void> {
    const { runs, modelOnly } = parseBenchArgs(argv);
    if (modelOnly) {
        process.stdout.write(await modelSection());
        return;
    }
    const cpus = os.cpus();
    process.stdout.write(
        `Offline evaluation (engine/ runProgram), ${runs} timed runs per case after one warm-up. ` +
            `Node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? "unknown CPU"}, ${os.platform()}.\n\n`,
    );
    const results: BenchResult[] = [];
    for (const c of benchCases()) {
        results.push(await timeCase(c, runs));
        process.stderr.write(`done: ${c.label}\n`);
    }
    process.stdout.write(`${benchTable(results)}\n\n${await modelSection()}`);
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((e: unknown) => {
        process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
    });
}
