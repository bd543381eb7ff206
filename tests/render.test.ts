/**
 * The render pipeline end to end: engine → Helm release records → real `helm template` → checks.
 *
 * Offline it runs on two charts of ours, tests/fixtures/charts/mini-velero and mini-argo-cd, which render the
 * objects the checks look at from the real charts' value keys. They are given through the same overrides an
 * operator uses (GITOPS_DR_CHART_VELERO, GITOPS_DR_CHART_ARGO_CD). The real charts are rendered only when they can
 * be had (pulled, cached or given by GITOPS_DR_CHART_<NAME>); otherwise that test is skipped with the reason.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parseAllDocuments } from "yaml";

import { resourceExclusions } from "../components/argocd";
import { ARGO_CD_CHART, VELERO_CHART } from "../components/versions";
import {
    ChartRef,
    ChartUnavailableError,
    ChartsUnavailableError,
    HelmError,
    chartEnvVar,
    chartUnavailableMessage,
    helmBinary,
    helmVersion,
    pullChart,
    resolveChart,
    showValues,
} from "../scripts/render/helm";
import {
    ArgoCdExpectations,
    argoCdExpectations,
    argoGlobMatch,
    checkArgoCdFacts,
    defaultExclusionsOf,
} from "../scripts/render/argocd";
import { CrdCatalog, crdCatalog, crdSchemaToJsonSchema, validateCustomResources } from "../scripts/render/crds";
import { ReleaseRender, parseManifests, renderRelease } from "../scripts/render/manifests";
import { PINNED_CHARTS, checkChartPin } from "../scripts/render/pins";
import {
    KubeObject,
    ReleaseRecord,
    registeredCustomResources,
    releasesOf,
    secretValuesOf,
} from "../scripts/render/records";
import { CheckResult } from "../scripts/render/report";
import { checkNoPlaintextSecrets } from "../scripts/render/secrets";
import { STACK_SPECS, checkStack, renderStack } from "../scripts/render/stacks";
import { checkVeleroFacts, veleroExpectations } from "../scripts/render/velero";
import { ProgramRun, RegisteredResource, runProgram } from "../engine";
import { STACK_SECRETS } from "./fixtures";
import { REFERENCE_DIR, needReference } from "./reference";

const ROOT = path.resolve(__dirname, "..");
const FIXTURE_CHARTS: Readonly<Record<string, string>> = {
    [VELERO_CHART.name]: path.join(__dirname, "fixtures", "charts", "mini-velero"),
    [ARGO_CD_CHART.name]: path.join(__dirname, "fixtures", "charts", "mini-argo-cd"),
};
const VELERO_ENV = chartEnvVar(VELERO_CHART.name);
const ARGO_CD_ENV = chartEnvVar(ARGO_CD_CHART.name);
/** Both fixture charts, given the way an operator gives local charts. */
const FIXTURE_ENV = {
    [VELERO_ENV]: FIXTURE_CHARTS[VELERO_CHART.name],
    [ARGO_CD_ENV]: FIXTURE_CHARTS[ARGO_CD_CHART.name],
};

/** Sets environment variables for the duration of a describe block. */
function withEnv(vars: Record<string, string | undefined>): void {
    const saved: Record<string, string | undefined> = {};
    before(() => {
        for (const [k, v] of Object.entries(vars)) {
            saved[k] = process.env[k];
            if (v === undefined) {
                delete process.env[k];
            } else {
                process.env[k] = v;
            }
        }
    });
    after(() => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) {
                delete process.env[k];
            } else {
                process.env[k] = v;
            }
        }
    });
}

function failed(checks: readonly CheckResult[]): CheckResult[] {
    return checks.filter((c) => c.status === "fail");
}

/** The one row of a check (of one subject, when given). */
function only(checks: readonly CheckResult[], name: string, subject?: string): CheckResult {
    const found = checks.filter((c) => c.check === name && (subject === undefined || c.subject === subject));
    assert.equal(
        found.length,
        1,
        `expected one ${name} check${subject === undefined ? "" : ` of ${subject}`}, got ${found.length}: ${JSON.stringify(checks.map((c) => [c.check, c.subject]))}`,
    );
    return found[0];
}

/** A release record with some values replaced. */
function withValues(
    release: ReleaseRecord,
    change: (values: Record<string, unknown>) => Record<string, unknown>,
): ReleaseRecord {
    return { ...release, values: change(structuredClone(release.values)) };
}

/** A run in which the program registered every resource of a type (or only `only`) with changed inputs. */
function withRegistered(
    run: ProgramRun,
    type: string,
    change: (inputs: Record<string, unknown>) => Record<string, unknown>,
    only?: RegisteredResource,
): ProgramRun {
    assert.ok(run.ofType(type).length > 0, `the run registers no ${type}`);
    const resources = run.resources.map((r): RegisteredResource =>
        r.type === type && (only === undefined || r === only)
            ? { ...r, inputs: change(structuredClone(r.inputs) as Record<string, unknown>) }
            : r,
    );
    return new ProgramRun(resources, run.outputs, run.config, run.reads, run.warnings);
}

/** The subject a check gives a registered object: `Kind/namespace/name (Pulumi resource <name>)`. */
function registeredSubject(r: RegisteredResource): string {
    const metadata = r.inputs.metadata as { name: string; namespace: string };
    return `${String(r.inputs.kind)}/${metadata.namespace}/${metadata.name} (Pulumi resource ${r.name})`;
}

const programRuns = new Map<string, Promise<ProgramRun>>();
/** One engine run per known stack, shared by the describes below. */
function programRun(stack: string): Promise<ProgramRun> {
    let run = programRuns.get(stack);
    if (run === undefined) {
        run = runProgram(STACK_SPECS[stack].run);
        programRuns.set(stack, run);
    }
    return run;
}

/** An empty directory: no reference CRDs, so the CRD check must use the charts' own. */
const NO_REFERENCE = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-no-reference-"));
after(() => fs.rmSync(NO_REFERENCE, { recursive: true, force: true }));

describe("helm helpers", () => {
    it("finds a Helm binary and reports its version", () => {
        assert.ok(fs.existsSync(helmBinary()));
        assert.match(helmVersion(), /^v[34]\.\d+\.\d+/);
    });

    it("names the override variable after the chart", () => {
        assert.equal(chartEnvVar("velero"), "GITOPS_DR_CHART_VELERO");
        assert.equal(chartEnvVar("argo-cd"), "GITOPS_DR_CHART_ARGO_CD");
    });

    it("turns an override into a resolved chart with the metadata Helm reads", async () => {
        const resolved = await resolveChart(VELERO_CHART, FIXTURE_CHARTS[VELERO_CHART.name]);
        assert.deepEqual(
            { source: resolved.source, name: resolved.metadata.name, version: resolved.metadata.version },
            { source: "--chart", name: "mini-velero", version: "0.1.0" },
        );
    });

    it("reads a chart's default resource.exclusions with helm show values", () => {
        const defaults = defaultExclusionsOf(showValues(FIXTURE_CHARTS[ARGO_CD_CHART.name]));
        assert.ok(defaults !== undefined && defaults.includes("- Lease"), String(defaults));
    });
});

describe("a chart that cannot be had", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-empty-cache-"));
    withEnv({
        GITOPS_DR_CACHE_DIR: cache,
        [VELERO_ENV]: undefined,
        [ARGO_CD_ENV]: undefined,
        GITOPS_DR_OFFLINE: undefined,
    });
    after(() => fs.rmSync(cache, { recursive: true, force: true }));

    const assertTellsHowToProvide = (e: unknown, cause: RegExp, chart: ChartRef = VELERO_CHART): true => {
        assert.ok(e instanceof ChartUnavailableError, String(e));
        assert.match(e.message, cause);
        assert.ok(
            e.message.includes(`${chartEnvVar(chart.name)}=/path/to/${chart.name}-${chart.version}.tgz`),
            e.message,
        );
        assert.ok(
            e.message.includes(`helm pull --repo ${chart.repo} ${chart.name} --version ${chart.version}`),
            e.message,
        );
        assert.ok(e.message.includes(`--chart ${chart.name}=/path/to/chart`), e.message);
        return true;
    };

    it("a repository that refuses connections: Helm's error, then how to provide the chart", async () => {
        // Port 9 (discard) on loopback refuses at once: the same failure as no network, without waiting on one.
        const started = Date.now();
        const chart = { ...VELERO_CHART, repo: "http://127.0.0.1:9/charts" };
        await assert.rejects(pullChart(chart, { timeoutMs: 20_000 }), (e) =>
            assertTellsHowToProvide(e, /connection refused|127\.0\.0\.1:9/, chart),
        );
        assert.ok(Date.now() - started < 20_000);
    });

    it("a host that does not resolve: answered by the DNS pre-check, not a Helm timeout", async () => {
        // .invalid never resolves (RFC 6761).
        const chart = { ...VELERO_CHART, repo: "https://charts.gitops-dr.invalid" };
        await assert.rejects(pullChart(chart), (e) =>
            assertTellsHowToProvide(e, /cannot resolve charts\.gitops-dr\.invalid/, chart),
        );
    });

    it("GITOPS_DR_OFFLINE=1 never touches the network", async () => {
        process.env.GITOPS_DR_OFFLINE = "1";
        try {
            await assert.rejects(pullChart(VELERO_CHART), (e) => assertTellsHowToProvide(e, /GITOPS_DR_OFFLINE=1/));
        } finally {
            delete process.env.GITOPS_DR_OFFLINE;
        }
    });

    it("one chart given, the other missing: only the missing one is named", async () => {
        process.env.GITOPS_DR_OFFLINE = "1";
        process.env[VELERO_ENV] = FIXTURE_CHARTS[VELERO_CHART.name];
        try {
            await assert.rejects(renderStack("prod", { run: await programRun("prod") }), (e) =>
                assertTellsHowToProvide(e, /GITOPS_DR_OFFLINE=1/, ARGO_CD_CHART),
            );
        } finally {
            delete process.env.GITOPS_DR_OFFLINE;
            delete process.env[VELERO_ENV];
        }
    });

    it("npm run render without network or overrides exits 2 and names every chart to provide in one run", () => {
        const env: NodeJS.ProcessEnv = { ...process.env, GITOPS_DR_CACHE_DIR: cache, GITOPS_DR_OFFLINE: "1" };
        delete env[VELERO_ENV];
        delete env[ARGO_CD_ENV];
        const cli = spawnSync(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "render", "index.ts"), "prod"],
            { cwd: ROOT, env, encoding: "utf8" },
        );
        assert.equal(cli.status, 2, cli.stdout + cli.stderr);
        const asComment = (chart: ChartRef) =>
            chartUnavailableMessage(chart, "GITOPS_DR_OFFLINE=1 forbids network access and no copy is cached")
                .split("\n")
                .map((l) => `# ${l}`)
                .join("\n");
        for (const chart of [VELERO_CHART, ARGO_CD_CHART]) {
            assert.ok(cli.stdout.includes(asComment(chart)), `${chart.name} is not named:\n${cli.stdout}`);
        }
        assert.ok(!cli.stdout.includes("render failed"), cli.stdout);
    });

    it("several missing charts are one error that keeps each chart's own", () => {
        const errors = [VELERO_CHART, ARGO_CD_CHART].map((c) => new ChartUnavailableError(c, "offline"));
        const all = new ChartsUnavailableError(errors);
        assert.deepEqual(
            all.errors.map((e) => e.chart.name),
            [VELERO_CHART.name, ARGO_CD_CHART.name],
        );
        assert.equal(all.message, errors.map((e) => e.message).join("\n"));
    });
});

describe("render on the fixture charts", () => {
    withEnv(FIXTURE_ENV);

    for (const stack of Object.keys(STACK_SPECS)) {
        it(`${stack}: every check passes, the charts' own CRDs validate every custom resource`, async () => {
            const rendered = await renderStack(stack, { referenceDir: NO_REFERENCE, run: await programRun(stack) });
            assert.deepEqual(failed(rendered.checks), []);
            assert.deepEqual(rendered.renders.map((r) => [r.release.chart, r.chart.source]).sort(), [
                [ARGO_CD_CHART.name, ARGO_CD_ENV],
                [VELERO_CHART.name, VELERO_ENV],
            ]);
            // The fixtures are not the pinned charts, and the table says so.
            assert.deepEqual(
                rendered.checks.filter((c) => c.check === "chart-rendered").map((c) => c.status),
                ["warn", "warn"],
            );
            const velero = `release ${rendered.renders.find((r) => r.release.chart === VELERO_CHART.name)!.release.releaseName}`;
            const argocd = `release ${rendered.renders.find((r) => r.release.chart === ARGO_CD_CHART.name)!.release.releaseName}`;
            for (const name of [
                "chart-pin",
                "no-plaintext-secret",
                "velero-locations",
                "velero-location-access",
                "velero-references",
                "velero-namespace",
                "velero-node-agent",
                "velero-server-args",
                "velero-irsa",
            ]) {
                assert.equal(
                    only(rendered.checks, name, name.startsWith("velero") ? undefined : velero).status,
                    "pass",
                    name,
                );
            }
            for (const name of [
                "chart-pin",
                "no-plaintext-secret",
                "argocd-argocd-cm",
                "argocd-resource-exclusions",
                "argocd-root-app",
            ]) {
                assert.equal(only(rendered.checks, name, argocd).status, "pass", name);
            }
            // Every custom resource the program registers is validated, against a fixture's own CRD.
            const registered = rendered.run.resources.filter((r) =>
                /^kubernetes:(velero\.io|argoproj\.io)\//.test(r.type),
            );
            assert.ok(registered.some((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application"));
            for (const r of registered) {
                assert.match(
                    only(rendered.checks, "crd-schema", registeredSubject(r)).detail,
                    /^valid against chart mini-(velero|argo-cd)-0\.1\.0/,
                );
            }
        });
    }

    it("npm run render -- prod prints the manifests of both releases and the checks as one YAML stream, exit 0", () => {
        const cli = spawnSync(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "render", "index.ts"), "prod"],
            {
                cwd: ROOT,
                env: { ...process.env, ...FIXTURE_ENV },
                encoding: "utf8",
            },
        );
        assert.equal(cli.status, 0, cli.stdout + cli.stderr);
        assert.match(cli.stdout, /^# Secrets are placeholder test values/m);
        assert.match(cli.stdout, /^# Checks for prod: \d+ passed, 2 warned, 0 failed$/m);
        assert.match(cli.stdout, /^# PASS +velero-node-agent /m);
        assert.match(cli.stdout, /^# PASS +argocd-resource-exclusions /m);
        const docs = parseAllDocuments(cli.stdout);
        assert.ok(docs.every((d) => d.errors.length === 0));
        const objects = docs.map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => o !== null);
        const names = objects.map((o) => `${o.kind}/${o.metadata?.name ?? ""}`);
        for (const want of [
            "BackupStorageLocation/default",
            "DaemonSet/node-agent",
            "ConfigMap/argocd-cm",
            "CustomResourceDefinition/applications.argoproj.io",
        ]) {
            assert.ok(names.includes(want), `${want} not in ${JSON.stringify(names)}`);
        }
    });
});

describe("render checks catch a broken release", () => {
    withEnv(FIXTURE_ENV);
    const runs = new Map<string, ProgramRun>();
    const base = new Map<string, { velero: ReleaseRender; argocd: ReleaseRender }>();

    before(async () => {
        const charts = { velero: await resolveChart(VELERO_CHART), argocd: await resolveChart(ARGO_CD_CHART) };
        for (const stack of ["prod", "drill"]) {
            const run = await programRun(stack);
            const releases = releasesOf(run);
            runs.set(stack, run);
            base.set(stack, {
                velero: renderRelease(
                    releases.find((r) => r.chart === VELERO_CHART.name)!,
                    charts.velero,
                ),
                argocd: renderRelease(
                    releases.find((r) => r.chart === ARGO_CD_CHART.name)!,
                    charts.argocd,
                ),
            });
        }
    });

    const velero = (stack: string): ReleaseRender => base.get(stack)!.velero;
    const argocd = (stack: string): ReleaseRender => base.get(stack)!.argocd;
    /** Every check of a stack, with its run and renders changed. */
    const stackChecks = (
        stack: string,
        run: ProgramRun = runs.get(stack)!,
        renders: readonly ReleaseRender[] = [velero(stack), argocd(stack)],
    ): CheckResult[] => checkStack({ run, renders, stackSecrets: STACK_SECRETS, referenceDir: NO_REFERENCE });
    /** Renders a changed Velero release of a stack and runs its Velero fact checks. */
    const factsAfter = (
        stack: string,
        change: (values: Record<string, unknown>) => Record<string, unknown>,
        run: ProgramRun = runs.get(stack)!,
    ): CheckResult[] => {
        const r = renderRelease(withValues(velero(stack).release, change), velero(stack).chart);
        return checkVeleroFacts(r.objects, r.release, veleroExpectations(run));
    };
    /** Velero fact checks of the unchanged release against a changed run. */
    const factsOfRun = (stack: string, run: ProgramRun): CheckResult[] =>
        checkVeleroFacts(velero(stack).objects, velero(stack).release, veleroExpectations(run));
    const sourceLocationType = "kubernetes:velero.io/v1:BackupStorageLocation";

    it("the unchanged stacks pass every check", () => {
        for (const stack of ["prod", "drill"]) {
            assert.deepEqual(failed(stackChecks(stack)), [], stack);
        }
    });

    it("velero-locations: the source location put back into the chart values, so Helm and Pulumi both own it", () => {
        const source = runs.get("drill")!.one(sourceLocationType);
        const spec = source.inputs.spec as {
            objectStorage: { bucket: string; prefix: string };
            config: Record<string, string>;
        };
        const check = only(
            factsAfter("drill", (v) => {
                (v.configuration as { backupStorageLocation: unknown[] }).backupStorageLocation = [
                    {
                        name: "source",
                        provider: "aws",
                        bucket: spec.objectStorage.bucket,
                        prefix: spec.objectStorage.prefix,
                        accessMode: "ReadOnly",
                        default: true,
                        config: spec.config,
                    },
                ];
                return v;
            }),
            "velero-locations",
        );
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            `location source is rendered by the chart and also registered as Pulumi resource ${source.name}: Helm and Pulumi would overwrite each other`,
        );
    });

    it("velero-location-access: the drill's registered source location made ReadWrite", () => {
        const run = withRegistered(runs.get("drill")!, sourceLocationType, (inputs) => ({
            ...inputs,
            spec: { ...(inputs.spec as object), accessMode: "ReadWrite" },
        }));
        const name = run.one(sourceLocationType).name;
        const check = only(factsOfRun("drill", run), "velero-location-access");
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            `location source (Pulumi resource ${name}) at the source prefix prod-eu-1 is ReadWrite: it must be ReadOnly; ` +
                `location source (Pulumi resource ${name}) is ReadWrite, but a drill writes no backups: every location must be ReadOnly`,
        );
    });

    it("velero-location-access: a drill whose chart values add a ReadWrite location elsewhere in the vault", () => {
        const check = only(
            factsAfter("drill", (v) => {
                (v.configuration as { backupStorageLocation: unknown[] }).backupStorageLocation = [
                    { name: "default", provider: "aws", bucket: "acme-gitops-dr-vault", prefix: "drill-eu-1" },
                ];
                return v;
            }),
            "velero-location-access",
        );
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            "location default (release velero) is ReadWrite, but a drill writes no backups: every location must be ReadOnly",
        );
    });

    it("velero-location-access: the registered source location reads another bucket", () => {
        const run = withRegistered(runs.get("drill")!, sourceLocationType, (inputs) => {
            const spec = inputs.spec as { objectStorage: { bucket: string } };
            spec.objectStorage.bucket = "someone-elses-bucket";
            return inputs;
        });
        const check = only(factsOfRun("drill", run), "velero-location-access");
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            `no location reads the source prefix prod-eu-1 in ${String(run.outputs.bucketName)}`,
        );
    });

    it("velero-irsa: the role annotation left off the server ServiceAccount", () => {
        const role = String(runs.get("prod")!.outputs.veleroRoleArn);
        assert.match(role, /:role\/prod-eu-1-velero$/);
        const check = only(
            factsAfter("prod", (v) => ({
                ...v,
                serviceAccount: { server: { create: true, name: "velero-server", annotations: {} } },
            })),
            "velero-irsa",
        );
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            `ServiceAccount velero-server has eks.amazonaws.com/role-arn=undefined, expected ${role}`,
        );
    });

    it("velero-irsa: a server ServiceAccount the IAM role does not trust", () => {
        const check = only(
            factsAfter("prod", (v) => ({
                ...v,
                serviceAccount: { server: { ...(v.serviceAccount as { server: object }).server, name: "velero" } },
            })),
            "velero-irsa",
        );
        assert.equal(check.status, "fail");
        assert.match(
            check.detail,
            /no IAM role trusts system:serviceaccount:velero:velero \(trusted: system:serviceaccount:velero:velero-server\)/,
        );
    });

    it("velero-server-args: the data mover without the EnableCSI feature", () => {
        const check = only(
            factsAfter("prod", (v) => ({ ...v, configuration: { ...(v.configuration as object), features: "" } })),
            "velero-server-args",
        );
        assert.equal(check.status, "fail");
        assert.match(check.detail, /defaultSnapshotMoveData needs --features=EnableCSI/);
    });

    it("velero-node-agent: --node-agent-configmap names a ConfigMap that is not rendered", () => {
        const renamed = (v: Record<string, unknown>) =>
            Object.fromEntries(
                Object.entries(v.configMaps as Record<string, unknown>).map(([k, c]) => [`renamed-${k}`, c]),
            );
        const check = only(
            factsAfter("prod", (v) => ({ ...v, configMaps: renamed(v) })),
            "velero-node-agent",
        );
        assert.equal(check.status, "fail");
        assert.match(
            check.detail,
            /ConfigMap velero-node-agent-config, named by --node-agent-configmap=, is not rendered in velero/,
        );
    });

    it("velero-node-agent: no --node-agent-configmap argument at all", () => {
        const check = only(
            factsAfter("prod", (v) => ({ ...v, nodeAgent: { extraArgs: [] } })),
            "velero-node-agent",
        );
        assert.equal(check.status, "fail");
        assert.match(check.detail, /has 0 --node-agent-configmap=<name> args/);
    });

    it("velero-references: a Schedule naming a location that neither the chart nor the program creates", () => {
        const r = velero("prod");
        const schedule: KubeObject = {
            apiVersion: "velero.io/v1",
            kind: "Schedule",
            metadata: { name: "weekly", namespace: "velero" },
            spec: { schedule: "0 3 * * 0", template: { storageLocation: "primary" } },
        };
        const check = only(
            checkVeleroFacts([...r.objects, schedule], r.release, veleroExpectations(runs.get("prod")!)),
            "velero-references",
        );
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            "Schedule/velero/weekly (release velero) names location primary, which is neither rendered nor registered",
        );
    });

    it("velero-references: a schedule the stack reports that nothing creates", () => {
        const r = velero("prod");
        const check = only(
            checkVeleroFacts(r.objects, r.release, {
                ...veleroExpectations(runs.get("prod")!),
                scheduleNames: ["velero-hourly"],
            }),
            "velero-references",
        );
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "schedule velero-hourly (a stack output) is neither rendered nor registered");
    });

    it("velero-references: the reported restore is not the Restore the program registers", () => {
        const run = withRegistered(runs.get("drill")!, "kubernetes:velero.io/v1:Restore", (inputs) => ({
            ...inputs,
            metadata: { ...(inputs.metadata as object), name: "another-restore" },
        }));
        const reported = (run.outputs.restore as { restoreName: string }).restoreName;
        const check = only(factsOfRun("drill", run), "velero-references");
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            `restore ${reported} (stack output restore.restoreName) is not a registered Restore`,
        );
    });

    it("velero-namespace: a registered Restore outside Velero's namespace", () => {
        const run = withRegistered(runs.get("drill")!, "kubernetes:velero.io/v1:Restore", (inputs) => ({
            ...inputs,
            metadata: { ...(inputs.metadata as object), namespace: "default" },
        }));
        const check = only(factsOfRun("drill", run), "velero-namespace");
        assert.equal(check.status, "fail");
        // In the order the run registered them, which the two restores' checks decide.
        assert.deepEqual(
            check.detail.split("; ").sort(),
            [run.restore("credentials"), run.restore()]
                .map((r) => `${registeredSubject(r)} is not in velero: the Velero server never sees it`)
                .sort(),
        );
    });

    it("the Schedules the program registers are CRD-validated and count as schedules and location references", () => {
        const run = runs.get("prod")!;
        const schedule = run.schedule();
        const good = stackChecks("prod");
        assert.match(
            only(good, "crd-schema", registeredSubject(schedule)).detail,
            /^valid against chart mini-velero-0\.1\.0 \(schedules\.velero\.io\)/,
        );
        const references = only(good, "velero-references");
        assert.equal(references.status, "pass");
        assert.equal(
            references.detail,
            // Each Schedule names the default location: the daily one and the credentials one.
            `${run.ofType(schedule.type).length} location reference(s), ${veleroExpectations(run).scheduleNames.length} schedule(s) found`,
        );

        const bad = stackChecks(
            "prod",
            withRegistered(
                run,
                schedule.type,
                (inputs) => ({
                    ...inputs,
                    spec: { schedule: "0 2 * * *", ttl: "720h", template: { storageLocation: "primary" } },
                }),
                schedule,
            ),
        );
        assert.deepEqual(
            failed(bad).map((c) => [c.check, c.detail]),
            [
                [
                    "velero-references",
                    `${registeredSubject(schedule)} names location primary, which is neither rendered nor registered`,
                ],
                [
                    "crd-schema",
                    "against chart mini-velero-0.1.0 (schedules.velero.io): /spec: field ttl is not in the CRD (the API server would prune it)",
                ],
            ],
        );
    });

    it("no-plaintext-secret: the repository password put into a ConfigMap through the values", () => {
        const leaked = withValues(velero("prod").release, (v) => ({
            ...v,
            configMaps: { ...(v.configMaps as object), leak: { data: { password: STACK_SECRETS.repoPassword } } },
        }));
        const r = renderRelease(leaked, velero("prod").chart);
        const check = only(
            checkNoPlaintextSecrets(r.objects, r.release, secretValuesOf(runs.get("prod")!, STACK_SECRETS)),
            "no-plaintext-secret",
        );
        assert.equal(check.status, "fail");
        assert.match(
            check.detail,
            /ConfigMap\/velero\/velero-leak data\.password holds config repoPassword in plain text/,
        );
        assert.match(
            check.detail,
            /values\.configMaps\.leak\.data\.password holds config repoPassword but is not a secret input/,
        );
        // The value itself never appears in the report.
        assert.ok(!check.detail.includes(STACK_SECRETS.repoPassword));
    });

    it("no-plaintext-secret: the same value passed as a secret input is not reported in the values", () => {
        const marked = {
            ...withValues(velero("prod").release, (v) => ({
                ...v,
                credentials: { extraEnvVars: { PASSWORD: STACK_SECRETS.repoPassword } },
            })),
            secretValuePaths: ["credentials.extraEnvVars"],
        };
        const check = only(
            checkNoPlaintextSecrets([], marked, secretValuesOf(runs.get("prod")!, STACK_SECRETS)),
            "no-plaintext-secret",
        );
        assert.equal(check.status, "pass");
    });

    it("the engine's secret inputs are among the secrets looked for", () => {
        const labels = secretValuesOf(runs.get("prod")!).map((s) => s.label);
        assert.ok(
            labels.includes("gitops-dr-prod-velero-repo-credentials input stringData.repository-password"),
            JSON.stringify(labels),
        );
    });

    it("crd-schema: an accessMode the CRD does not allow on the registered source location", () => {
        const run = withRegistered(runs.get("drill")!, sourceLocationType, (inputs) => ({
            ...inputs,
            spec: { ...(inputs.spec as object), accessMode: "Readonly" },
        }));
        const row = only(stackChecks("drill", run), "crd-schema", registeredSubject(run.one(sourceLocationType)));
        assert.equal(row.status, "fail");
        assert.match(
            row.detail,
            /\/spec\/accessMode must be equal to one of the allowed values: \["ReadOnly","ReadWrite"\]/,
        );
    });

    it("crd-schema: a root Application field at the wrong level, against the Argo CD chart's CRD", () => {
        const type = "kubernetes:argoproj.io/v1alpha1:Application";
        const run = withRegistered(runs.get("prod")!, type, (inputs) => ({
            ...inputs,
            spec: { ...(inputs.spec as object), targetRevision: "HEAD" },
        }));
        const row = only(stackChecks("prod", run), "crd-schema", registeredSubject(run.one(type)));
        assert.equal(row.status, "fail");
        assert.equal(
            row.detail,
            "against chart mini-argo-cd-0.1.0 (applications.argoproj.io): /spec: field targetRevision is not in the CRD (the API server would prune it)",
        );
    });

    it("a wrong value shape is refused by the fixture's own values.schema.json before anything renders", () => {
        const release = withValues(velero("prod").release, (v) => ({
            ...v,
            nodeAgent: { extraArgs: "--node-agent-configmap=velero-node-agent-config" },
        }));
        assert.throws(
            () => renderRelease(release, velero("prod").chart),
            (e: unknown) => e instanceof HelmError && /nodeAgent(\/|\.)extraArgs/.test(e.stderr),
        );
    });

    /** Renders a changed Argo CD release of a stack and runs its Argo CD fact checks, with the chart's defaults. */
    const argoFactsAfter = (
        stack: string,
        change: (values: Record<string, unknown>) => Record<string, unknown>,
        run: ProgramRun = runs.get(stack)!,
    ): CheckResult[] => {
        const r = renderRelease(withValues(argocd(stack).release, change), argocd(stack).chart);
        return checkArgoCdFacts(
            r.objects,
            r.release,
            argoCdExpectations(run, defaultExclusionsOf(showValues(r.chart.path))),
        );
    };
    const setExclusions = (text: string) => (v: Record<string, unknown>) => {
        (v.configs as { cm: Record<string, unknown> }).cm["resource.exclusions"] = text;
        return v;
    };

    it("argocd-resource-exclusions: Secrets left to Argo CD", () => {
        const withoutSecret = resourceExclusions(false).replace('  - "Secret"\n', "");
        const check = only(argoFactsAfter("prod", setExclusions(withoutSecret)), "argocd-resource-exclusions");
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            "argocd-cm resource.exclusions does not exclude Secret on https://kubernetes.default.svc: Argo CD would apply, overwrite or prune what Velero restores",
        );
    });

    it("argocd-resource-exclusions: the chart's default list replaced instead of carried over", () => {
        const ours =
            '- apiGroups: [""]\n  kinds: [PersistentVolume, PersistentVolumeClaim, Secret]\n- apiGroups: [velero.io]\n  kinds: ["*"]\n';
        const check = only(argoFactsAfter("prod", setExclusions(ours)), "argocd-resource-exclusions");
        assert.equal(check.status, "fail");
        // The fixture chart's own defaults (tests/fixtures/charts/mini-argo-cd/values.yaml).
        assert.equal(
            check.detail,
            "argocd-cm resource.exclusions drops the chart's default exclusion of Endpoints, EndpointSlice, Endpoints.discovery.k8s.io, EndpointSlice.discovery.k8s.io, Lease.coordination.k8s.io: the value replaces the chart's list, carry it over",
        );
    });

    it("argocd-resource-exclusions: argocd-cm not rendered at all", () => {
        const check = only(
            argoFactsAfter("prod", (v) => {
                (v.configs as { cm: Record<string, unknown> }).cm.create = false;
                return v;
            }),
            "argocd-resource-exclusions",
        );
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "ConfigMap argocd-cm is not rendered: Argo CD manages every kind");
    });

    it("argocd-root-app: the root Application outside Argo CD's namespace", () => {
        const type = "kubernetes:argoproj.io/v1alpha1:Application";
        const run = withRegistered(runs.get("drill")!, type, (inputs) => ({
            ...inputs,
            metadata: { ...(inputs.metadata as object), namespace: "default" },
        }));
        const r = argocd("drill");
        const check = only(checkArgoCdFacts(r.objects, r.release, argoCdExpectations(run)), "argocd-root-app");
        assert.equal(check.status, "fail");
        assert.equal(check.detail, `${registeredSubject(run.one(type))} is not in argocd: Argo CD never reconciles it`);
    });

    it("argocd-root-app: the reported root Application is not registered", () => {
        const run = runs.get("prod")!;
        const r = argocd("prod");
        const expect: ArgoCdExpectations = { ...argoCdExpectations(run), rootApp: "apps" };
        const check = only(checkArgoCdFacts(r.objects, r.release, expect), "argocd-root-app");
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "0 registered Application(s) named apps (stack output argoCdRootApp), expected 1");
    });
});

describe("CRD validation", () => {
    // The fixture chart's own crds/, so these cases run with or without ../shared.
    const catalog = new CrdCatalog();
    const crdDir = path.join(FIXTURE_CHARTS[VELERO_CHART.name], "crds");
    before(() => {
        for (const f of fs.readdirSync(crdDir)) {
            catalog.addFrom(parseManifests(fs.readFileSync(path.join(crdDir, f), "utf8"), f), `fixture ${f}`);
        }
        assert.equal(catalog.size, 3);
    });

    const schedule = (spec: Record<string, unknown>): KubeObject => ({
        apiVersion: "velero.io/v1",
        kind: "Schedule",
        metadata: { name: "velero-daily", namespace: "velero" },
        spec,
    });

    it("a registered Schedule whose field sits at the wrong level: the API server would prune it", () => {
        const [r] = validateCustomResources(
            [
                {
                    object: schedule({ schedule: "0 2 * * *", template: {}, ttl: "720h" }),
                    origin: "Pulumi resource daily",
                },
            ],
            catalog,
        );
        assert.equal(r.status, "fail");
        assert.match(r.detail, /\/spec: field ttl is not in the CRD \(the API server would prune it\)/);
    });

    it("x-kubernetes-preserve-unknown-fields keeps what it says", () => {
        const [r] = validateCustomResources(
            [
                {
                    object: schedule({ schedule: "0 2 * * *", template: { ttl: "720h", anything: true } }),
                    origin: "test",
                },
            ],
            catalog,
        );
        assert.equal(r.status, "pass", r.detail);
    });

    it("an object of a checked group without a CRD fails and says how to provide one", () => {
        const application = {
            object: { apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "root" } },
            origin: "test",
        };
        const [r] = validateCustomResources([application], catalog);
        assert.equal(r.status, "fail");
        assert.match(r.detail, /no CRD for argoproj\.io\/v1alpha1 Application .*GITOPS_DR_REFERENCE_DIR/);
        // A render that leaves the owning chart out on purpose (--only) only warns.
        assert.equal(validateCustomResources([application], catalog, { missingCrd: "warn" })[0].status, "warn");
    });

    it("objects of other groups are not checked", () => {
        assert.deepEqual(
            validateCustomResources(
                [{ object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }, origin: "test" }],
                catalog,
            ),
            [],
        );
    });

    it("nullable becomes a null type, and an object without properties prunes everything", () => {
        assert.deepEqual(
            crdSchemaToJsonSchema({
                type: "object",
                properties: { a: { type: "string", nullable: true }, b: { type: "object" } },
            }),
            {
                type: "object",
                properties: { a: { type: ["string", "null"] }, b: { type: "object", additionalProperties: false } },
                additionalProperties: false,
            },
        );
    });

    it("falls back to the reference CRDs when no rendered chart has them", async function () {
        needReference(this, "the reference-CRD fallback test", [
            ["velero-1.18-crds", "restores.yaml"],
            ["argo-cd-crds", "appproject.yaml"],
        ]);
        const dir = REFERENCE_DIR;
        const fallback = crdCatalog([], dir);
        const objects = [
            {
                object: {
                    apiVersion: "velero.io/v1",
                    kind: "Restore",
                    metadata: { name: "r" },
                    spec: { scheduleName: "velero-daily", existingResourcePolicy: "none" },
                },
                origin: "test",
            },
            {
                object: {
                    apiVersion: "argoproj.io/v1alpha1",
                    kind: "AppProject",
                    metadata: { name: "p" },
                    spec: {
                        sourceRepos: ["*"],
                        destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }],
                    },
                },
                origin: "test",
            },
            {
                object: {
                    apiVersion: "velero.io/v1",
                    kind: "Restore",
                    metadata: { name: "bad" },
                    spec: { scheduleName: "velero-daily", existingResourcePolicy: "overwrite", restorePVs: "yes" },
                },
                origin: "test",
            },
        ];
        const [restore, project, bad] = validateCustomResources(objects, fallback);
        assert.equal(restore.status, "pass", restore.detail);
        assert.match(restore.detail, /velero-1\.18-crds\/restores\.yaml/);
        assert.equal(project.status, "pass", project.detail);
        assert.equal(bad.status, "fail");
        assert.match(bad.detail, /\/spec\/restorePVs must be boolean,null|\/spec\/restorePVs must be boolean/);

        // Every custom resource the drill registers (source location, Restore, root Application) fits the real CRDs.
        const registered = registeredCustomResources(await programRun("drill"));
        assert.deepEqual(registered.map((r) => r.object.kind).sort(), [
            "Application",
            "BackupStorageLocation",
            "Restore",
            "Restore",
        ]);
        const rows = validateCustomResources(registered, fallback);
        assert.deepEqual(failed(rows), []);
        assert.ok(
            rows.every((r) => /reference|-crds\//.test(r.detail)),
            JSON.stringify(rows),
        );
    });
});

describe("checkArgoCdFacts", () => {
    const release: ReleaseRecord = {
        urn: "urn:test",
        resourceName: "argocd",
        releaseName: "argocd",
        namespace: "argocd",
        chart: ARGO_CD_CHART.name,
        version: ARGO_CD_CHART.version,
        repo: ARGO_CD_CHART.repo,
        values: {
            configs: {
                cm: { create: true, "resource.exclusions": resourceExclusions(false) },
                params: { "server.insecure": true },
            },
        },
        secretValuePaths: [],
    };
    const cm = (data: Record<string, string>): KubeObject => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "argocd-cm", namespace: "argocd" },
        data,
    });
    const params: KubeObject = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "argocd-cmd-params-cm" },
        data: { "server.insecure": "true" },
    };
    const exclusionsCheck = (text: string): CheckResult =>
        only(
            checkArgoCdFacts([cm({ "resource.exclusions": text }), params], {
                ...release,
                values: { configs: { cm: { "resource.exclusions": text } } },
            }),
            "argocd-resource-exclusions",
        );

    it("passes when every configs.cm and configs.params key reaches its ConfigMap", () => {
        assert.deepEqual(
            failed(checkArgoCdFacts([cm({ "resource.exclusions": resourceExclusions(false) }), params], release)),
            [],
        );
    });

    it("fails when resource.exclusions is not what the values say", () => {
        const check = only(
            checkArgoCdFacts([cm({ "resource.exclusions": "- kinds: [ConfigMap]\n" }), params], release),
            "argocd-argocd-cm",
        );
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "argocd-cm resource.exclusions differs from configs.cm.resource.exclusions");
    });

    it("fails when a configs.params key does not reach argocd-cmd-params-cm", () => {
        const check = only(
            checkArgoCdFacts(
                [cm({ "resource.exclusions": resourceExclusions(false) }), { ...params, data: {} }],
                release,
            ),
            "argocd-argocd-cmd-params-cm",
        );
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "configs.params.server.insecure is not in argocd-cmd-params-cm");
    });

    it("the program's exclusions pass with and without first-install seeding, whose cluster globs still match in-cluster", () => {
        for (const seeding of [false, true]) {
            assert.equal(exclusionsCheck(resourceExclusions(seeding)).status, "pass", `seeding ${String(seeding)}`);
        }
    });

    it("an exclusion scoped to other clusters does not count for in-cluster", () => {
        const check = exclusionsCheck(
            '- apiGroups: [""]\n  kinds: [PersistentVolume, PersistentVolumeClaim, Secret]\n  clusters: ["https://prod.example.com"]\n- apiGroups: [velero.io]\n  kinds: ["*"]\n',
        );
        assert.equal(check.status, "fail");
        assert.match(
            check.detail,
            /does not exclude PersistentVolume, PersistentVolumeClaim, Secret on https:\/\/kubernetes\.default\.svc/,
        );
    });

    it("empty lists match everything, as in Argo CD, and a list that does not parse fails", () => {
        assert.equal(
            exclusionsCheck("- kinds: [PersistentVolume, PersistentVolumeClaim, Secret, Backup]\n").status,
            "pass",
        );
        const broken = exclusionsCheck("apiGroups: ['']\n");
        assert.equal(broken.status, "fail");
        assert.match(
            broken.detail,
            /^argocd-cm resource\.exclusions is not a YAML list: Argo CD cannot load its settings/,
        );
    });

    it("Argo CD's globs: * ? [..] {a,b} and escapes, case-sensitive", () => {
        assert.ok(argoGlobMatch("https://*", "https://kubernetes.default.svc"));
        assert.ok(!argoGlobMatch("https://*", "HTTPS://kubernetes.default.svc"));
        assert.ok(argoGlobMatch("*.k8s.io", "discovery.k8s.io"));
        assert.ok(!argoGlobMatch("*.k8s.io", "velero.io"));
        assert.ok(argoGlobMatch("{velero,argoproj}.io", "argoproj.io"));
        assert.ok(argoGlobMatch("v?lero.io", "velero.io"));
        assert.ok(argoGlobMatch("[!a]elero.io", "velero.io") && !argoGlobMatch("[!v]elero.io", "velero.io"));
        assert.ok(argoGlobMatch("a\\*b", "a*b") && !argoGlobMatch("a\\*b", "axb"));
        assert.ok(argoGlobMatch("", "") && !argoGlobMatch("", "apps"));
    });
});

describe("checkChartPin", () => {
    const release: ReleaseRecord = {
        urn: "urn:test",
        resourceName: "velero",
        releaseName: "velero",
        namespace: "velero",
        chart: VELERO_CHART.name,
        version: VELERO_CHART.version,
        repo: VELERO_CHART.repo,
        values: {},
        secretValuePaths: [],
    };
    const rendered = { name: VELERO_CHART.name, version: VELERO_CHART.version, source: "pulled" };

    it("passes for the pinned chart rendered as itself", () => {
        assert.deepEqual(
            checkChartPin(release, rendered).map((c) => [c.check, c.status]),
            [
                ["chart-pin", "pass"],
                ["chart-rendered", "pass"],
            ],
        );
    });

    it("chart-pin: a release of another version and repository than the pin", () => {
        const check = only(
            checkChartPin({ ...release, version: "11.0.0", repo: "https://example.com/charts" }, rendered),
            "chart-pin",
        );
        assert.equal(check.status, "fail");
        assert.equal(
            check.detail,
            `version 11.0.0 is not the pinned ${VELERO_CHART.version}; repository https://example.com/charts is not the pinned ${VELERO_CHART.repo} (an HTTPS mirror? docs/mirrors.md)`,
        );
    });
});

describe("render on the real charts (only when they can be had)", function () {
    // A pull may take a while on a slow network; the DNS pre-check answers at once on a machine without one.
    this.timeout(120_000);

    for (const pin of PINNED_CHARTS) {
        it(`${pin.name} ${pin.version}: renders, and every stack's checks pass`, async function () {
            let resolved;
            try {
                resolved = await resolveChart(pin, undefined, { timeoutMs: 60_000 });
            } catch (e) {
                if (e instanceof ChartUnavailableError) {
                    console.log(`      skipped: ${e.message.split("\n")[0]}`);
                    this.skip();
                }
                throw e;
            }
            if (resolved.metadata.name !== pin.name || resolved.metadata.version !== pin.version) {
                console.log(
                    `      skipped: ${resolved.source} gives ${resolved.metadata.name} ${resolved.metadata.version}, not ${pin.name} ${pin.version}`,
                );
                this.skip();
            }
            for (const stack of Object.keys(STACK_SPECS)) {
                // Only this chart: the other one may not be at hand, and its custom resources then only warn.
                const result = await renderStack(stack, {
                    charts: { [pin.name]: resolved.path },
                    onlyCharts: [pin.name],
                    run: await programRun(stack),
                });
                assert.equal(result.renders.length, 1, `${stack} registers one ${pin.name} release`);
                assert.ok(
                    result.renders[0].objects.some((o) => o.kind === "CustomResourceDefinition"),
                    `${stack}: the chart's CRDs are rendered`,
                );
                assert.deepEqual(failed(result.checks), [], stack);
                assert.ok(result.checks.filter((c) => c.check === "chart-rendered").every((c) => c.status === "pass"));
            }
        });
    }
});

describe("chart-pin with a mirror", () => {
    it("accepts the pinned chart from an OCI mirror or an archive, and still refuses another version", () => {
        const base = {
            urn: "u",
            resourceName: "r",
            releaseName: "velero",
            namespace: "velero",
            values: {},
            secretValuePaths: [],
        };
        const rendered = { name: "velero", version: "12.1.0", source: "mirror" };
        const statusOf = (release: Parameters<typeof checkChartPin>[0]) =>
            checkChartPin(release, rendered).find((c) => c.check === "chart-pin")!.status;
        assert.equal(
            statusOf({ ...base, chart: "oci://registry.acme.internal/charts/velero", version: "12.1.0" }),
            "pass",
        );
        assert.equal(statusOf({ ...base, chart: "/charts/velero-12.1.0.tgz", version: "12.1.0" }), "pass");
        assert.equal(
            statusOf({ ...base, chart: "oci://registry.acme.internal/charts/velero", version: "12.0.0" }),
            "fail",
        );
        assert.equal(
            statusOf({ ...base, chart: "velero", version: "12.1.0", repo: "https://example.com/not-the-pin" }),
            "fail",
        );
        assert.equal(
            statusOf({ ...base, chart: "oci://registry.acme.internal/charts/other", version: "1.0.0" }),
            "fail",
        );
    });
});
