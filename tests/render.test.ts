/**
 * The render pipeline end to end: engine → Helm release records → real `helm template` → checks.
 *
 * Offline it runs on tests/fixtures/charts/mini-velero, a chart of ours that renders the objects the checks
 * look at from the velero chart's value keys, given through the same override an operator uses
 * (GITOPS_DR_CHART_VELERO). The real charts are rendered only when they can be had (pulled, cached or given by
 * GITOPS_DR_CHART_<NAME>); otherwise that test is skipped with the reason.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parseAllDocuments } from "yaml";

import { ARGO_CD_CHART, VELERO_CHART } from "../components/versions";
import { ChartUnavailableError, HelmError, chartEnvVar, chartUnavailableMessage, helmBinary, helmVersion, pullChart, resolveChart } from "../scripts/helm";
import {
    CheckResult,
    CrdCatalog,
    KubeObject,
    PINNED_CHARTS,
    ReleaseRecord,
    ReleaseRender,
    STACK_SPECS,
    checkArgoCdFacts,
    checkNoPlaintextSecrets,
    checkStack,
    checkVeleroFacts,
    crdCatalog,
    crdSchemaToJsonSchema,
    parseManifests,
    referenceDir,
    releasesOf,
    renderRelease,
    renderStack,
    secretValuesOf,
    validateCustomResources,
    veleroExpectations,
} from "../scripts/render";
import { ProgramRun, RegisteredResource, runProgram } from "./engine";
import { STACK_SECRETS } from "./fixtures";

const ROOT = path.resolve(__dirname, "..");
const FIXTURE_CHART = path.join(__dirname, "fixtures", "charts", "mini-velero");
const VELERO_ENV = chartEnvVar(VELERO_CHART.name);

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

function only(checks: readonly CheckResult[], name: string): CheckResult {
    const found = checks.filter((c) => c.check === name);
    assert.equal(found.length, 1, `expected one ${name} check, got ${found.length}: ${JSON.stringify(checks.map((c) => c.check))}`);
    return found[0];
}

/** A release record with some values replaced. */
function withValues(release: ReleaseRecord, change: (values: Record<string, unknown>) => Record<string, unknown>): ReleaseRecord {
    return { ...release, values: change(structuredClone(release.values)) };
}

/** An empty directory: no reference CRDs, so the CRD check must use the chart's own. */
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
        const resolved = await resolveChart(VELERO_CHART, FIXTURE_CHART);
        assert.deepEqual({ source: resolved.source, name: resolved.metadata.name, version: resolved.metadata.version }, { source: "--chart", name: "mini-velero", version: "0.1.0" });
    });
});

describe("a chart that cannot be had", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-empty-cache-"));
    withEnv({ GITOPS_DR_CACHE_DIR: cache, [VELERO_ENV]: undefined, GITOPS_DR_OFFLINE: undefined });
    after(() => fs.rmSync(cache, { recursive: true, force: true }));

    const assertTellsHowToProvide = (e: unknown, cause: RegExp, repo: string = VELERO_CHART.repo): true => {
        assert.ok(e instanceof ChartUnavailableError, String(e));
        assert.match(e.message, cause);
        assert.ok(e.message.includes(`GITOPS_DR_CHART_VELERO=/path/to/velero-${VELERO_CHART.version}.tgz`), e.message);
        assert.ok(e.message.includes(`helm pull --repo ${repo} velero --version ${VELERO_CHART.version}`), e.message);
        assert.ok(e.message.includes("--chart velero=/path/to/chart"), e.message);
        return true;
    };

    it("a repository that refuses connections: Helm's error, then how to provide the chart", async () => {
        // Port 9 (discard) on loopback refuses at once: the same failure as no network, without waiting on one.
        const started = Date.now();
        const repo = "http://127.0.0.1:9/charts";
        await assert.rejects(pullChart({ name: VELERO_CHART.name, version: VELERO_CHART.version, repo }, { timeoutMs: 20_000 }), (e) => assertTellsHowToProvide(e, /connection refused|127\.0\.0\.1:9/, repo));
        assert.ok(Date.now() - started < 20_000);
    });

    it("a host that does not resolve: answered by the DNS pre-check, not a Helm timeout", async () => {
        // .invalid never resolves (RFC 6761).
        const repo = "https://charts.gitops-dr.invalid";
        await assert.rejects(pullChart({ name: VELERO_CHART.name, version: VELERO_CHART.version, repo }), (e) => assertTellsHowToProvide(e, /cannot resolve charts\.gitops-dr\.invalid/, repo));
    });

    it("GITOPS_DR_OFFLINE=1 never touches the network", async () => {
        process.env.GITOPS_DR_OFFLINE = "1";
        try {
            await assert.rejects(pullChart(VELERO_CHART), (e) => assertTellsHowToProvide(e, /GITOPS_DR_OFFLINE=1/));
        } finally {
            delete process.env.GITOPS_DR_OFFLINE;
        }
    });

    it("npm run render without network or override exits 2 with the message", () => {
        const env: NodeJS.ProcessEnv = { ...process.env, GITOPS_DR_CACHE_DIR: cache, GITOPS_DR_OFFLINE: "1" };
        delete env[VELERO_ENV];
        const cli = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "render.ts"), "prod"], { cwd: ROOT, env, encoding: "utf8" });
        assert.equal(cli.status, 2, cli.stdout + cli.stderr);
        assert.ok(cli.stdout.includes(chartUnavailableMessage(VELERO_CHART, "GITOPS_DR_OFFLINE=1 forbids network access and no copy is cached").split("\n").map((l) => `# ${l}`).join("\n")), cli.stdout);
    });
});

describe("render on the mini-velero fixture chart", () => {
    withEnv({ [VELERO_ENV]: FIXTURE_CHART });

    for (const stack of Object.keys(STACK_SPECS)) {
        it(`${stack}: every check passes, the chart's own CRDs validate its custom resources`, async () => {
            const rendered = await renderStack(stack, { referenceDir: NO_REFERENCE, onlyCharts: [VELERO_CHART.name] });
            assert.deepEqual(failed(rendered.checks), []);
            const [velero] = rendered.renders;
            assert.equal(velero.chart.source, VELERO_ENV);
            assert.ok(velero.objects.some((o) => o.kind === "BackupStorageLocation"));
            // The fixture is not the pinned chart, and the table says so.
            assert.equal(only(rendered.checks, "chart-rendered").status, "warn");
            for (const name of ["chart-pin", "no-plaintext-secret", "velero-locations", "velero-location-access", "velero-node-agent", "velero-server-args", "velero-irsa"]) {
                assert.equal(only(rendered.checks, name).status, "pass", name);
            }
            // Rendered custom resources validate against the fixture's own CRDs, not a reference copy.
            const crd = rendered.checks.filter((c) => c.check === "crd-schema" && c.subject.endsWith("(release velero)"));
            assert.ok(crd.length > 0);
            for (const c of crd) {
                assert.match(c.detail, /^valid against chart mini-velero-0\.1\.0/);
            }
        });
    }

    it("npm run render -- prod prints the manifests and the checks as one YAML stream, exit 0", () => {
        {
            const cli = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "render.ts"), "prod", "--only", "velero"], {
                cwd: ROOT,
                env: { ...process.env, [VELERO_ENV]: FIXTURE_CHART },
                encoding: "utf8",
            });
            assert.equal(cli.status, 0, cli.stdout + cli.stderr);
            assert.match(cli.stdout, /^# Secrets are placeholder test values/m);
            assert.match(cli.stdout, /^# Checks for prod: \d+ passed, \d+ warned, 0 failed$/m);
            assert.match(cli.stdout, /^# PASS +velero-node-agent /m);
            const docs = parseAllDocuments(cli.stdout);
            assert.ok(docs.every((d) => d.errors.length === 0));
            const kinds = docs.map((d) => (d.toJS() as KubeObject | null)?.kind).filter((k) => k !== undefined);
            assert.ok(kinds.includes("BackupStorageLocation") && kinds.includes("DaemonSet"), JSON.stringify(kinds));
        }
    });
});

describe("render checks catch a broken release", () => {
    withEnv({ [VELERO_ENV]: FIXTURE_CHART });
    const runs = new Map<string, ProgramRun>();
    const base = new Map<string, ReleaseRender>();

    before(async () => {
        for (const stack of ["prod", "drill"]) {
            const run = await runProgram(STACK_SPECS[stack].run);
            const release = releasesOf(run).find((r) => r.chart === VELERO_CHART.name)!;
            runs.set(stack, run);
            base.set(stack, renderRelease(release, await resolveChart(VELERO_CHART)));
        }
    });

    /** Renders a changed release of a stack and runs its Velero fact checks. */
    const factsAfter = (stack: string, change: (values: Record<string, unknown>) => Record<string, unknown>): CheckResult[] => {
        const r = renderRelease(withValues(base.get(stack)!.release, change), base.get(stack)!.chart);
        return checkVeleroFacts(r.objects, r.release, veleroExpectations(runs.get(stack)!));
    };

    it("the unchanged releases pass every fact check", () => {
        for (const stack of ["prod", "drill"]) {
            const r = base.get(stack)!;
            assert.deepEqual(failed(checkVeleroFacts(r.objects, r.release, veleroExpectations(runs.get(stack)!))), []);
        }
    });

    it("velero-node-agent: --node-agent-configmap names a ConfigMap that is not rendered", () => {
        const renamed = (v: Record<string, unknown>) => Object.fromEntries(Object.entries(v.configMaps as Record<string, unknown>).map(([k, c]) => [`renamed-${k}`, c]));
        const check = only(factsAfter("prod", (v) => ({ ...v, configMaps: renamed(v) })), "velero-node-agent");
        assert.equal(check.status, "fail");
        assert.match(check.detail, /ConfigMap velero-node-agent-config, named by --node-agent-configmap=, is not rendered in velero/);
    });

    it("velero-node-agent: no --node-agent-configmap argument at all", () => {
        const check = only(factsAfter("prod", (v) => ({ ...v, nodeAgent: { extraArgs: [] } })), "velero-node-agent");
        assert.equal(check.status, "fail");
        assert.match(check.detail, /has 0 --node-agent-configmap=<name> args/);
    });

    it("velero-location-access: the drill's source location made ReadWrite", () => {
        const check = only(
            factsAfter("drill", (v) => {
                const configuration = v.configuration as { backupStorageLocation: Record<string, unknown>[] };
                configuration.backupStorageLocation[0].accessMode = "ReadWrite";
                return v;
            }),
            "velero-location-access",
        );
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "location source at the source prefix prod-eu-1 is ReadWrite: it must be ReadOnly");
    });

    it("velero-irsa: the role annotation left off the server ServiceAccount", () => {
        const check = only(factsAfter("prod", (v) => ({ ...v, serviceAccount: { server: { create: true, name: "velero-server", annotations: {} } } })), "velero-irsa");
        assert.equal(check.status, "fail");
        assert.match(check.detail, /ServiceAccount velero-server has eks\.amazonaws\.com\/role-arn=undefined, expected arn:aws:iam::111122223333:role\/gitops-dr-prod-velero-iam-role/);
    });

    it("velero-irsa: a server ServiceAccount the IAM role does not trust", () => {
        const check = only(factsAfter("prod", (v) => ({ ...v, serviceAccount: { server: { ...(v.serviceAccount as { server: object }).server, name: "velero" } } })), "velero-irsa");
        assert.equal(check.status, "fail");
        assert.match(check.detail, /no IAM role trusts system:serviceaccount:velero:velero \(trusted: system:serviceaccount:velero:velero-server\)/);
    });

    it("velero-server-args: the data mover without the EnableCSI feature", () => {
        const check = only(factsAfter("prod", (v) => ({ ...v, configuration: { ...(v.configuration as object), features: "" } })), "velero-server-args");
        assert.equal(check.status, "fail");
        assert.match(check.detail, /defaultSnapshotMoveData needs --features=EnableCSI/);
    });

    it("velero-references: a Schedule naming a location that does not exist", () => {
        const r = base.get("prod")!;
        const schedule: KubeObject = { apiVersion: "velero.io/v1", kind: "Schedule", metadata: { name: "weekly", namespace: "velero" }, spec: { schedule: "0 3 * * 0", template: { storageLocation: "primary" } } };
        const check = only(checkVeleroFacts([...r.objects, schedule], r.release, veleroExpectations(runs.get("prod")!)), "velero-references");
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "Schedule/velero/weekly names location primary, which is not rendered");
    });

    it("velero-references: a schedule the stack reports that nothing creates", () => {
        const r = base.get("prod")!;
        const check = only(checkVeleroFacts(r.objects, r.release, { ...veleroExpectations(runs.get("prod")!), scheduleNames: ["velero-hourly"] }), "velero-references");
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "schedule velero-hourly (a stack output) is neither rendered nor registered");
    });

    it("custom resources the program registers itself are CRD-validated and count as schedules and location references", () => {
        const run = runs.get("prod")!;
        const registered = (spec: Record<string, unknown>): ProgramRun => {
            const schedule: RegisteredResource = {
                urn: "urn:pulumi:prod::gitops-dr::kubernetes:velero.io/v1:Schedule::daily",
                type: "kubernetes:velero.io/v1:Schedule",
                name: "daily",
                custom: true,
                inputs: { apiVersion: "velero.io/v1", kind: "Schedule", metadata: { name: "velero-daily", namespace: "velero" }, spec },
                secretPaths: [],
                dependencies: [],
                propertyDependencies: {},
                protect: false,
                retainOnDelete: false,
                deleteBeforeReplace: false,
                ignoreChanges: [],
            };
            return new ProgramRun([...run.resources, schedule], run.outputs, run.config);
        };
        // The schedule moves out of the chart into a Pulumi-registered Schedule.
        const r = renderRelease(withValues(base.get("prod")!.release, (v) => ({ ...v, schedules: {} })), base.get("prod")!.chart);
        const good = checkStack({ run: registered({ schedule: "0 2 * * *", template: { storageLocation: "default", ttl: "720h" } }), renders: [r], stackSecrets: STACK_SECRETS, referenceDir: NO_REFERENCE });
        assert.deepEqual(failed(good), []);
        const row = good.find((c) => c.subject === "Schedule/velero/velero-daily (Pulumi resource daily)")!;
        assert.match(row.detail, /^valid against chart mini-velero-0\.1\.0 \(schedules\.velero\.io\)/);
        assert.equal(only(good, "velero-references").status, "pass");

        const bad = checkStack({ run: registered({ schedule: "0 2 * * *", ttl: "720h", template: { storageLocation: "primary" } }), renders: [r], stackSecrets: STACK_SECRETS, referenceDir: NO_REFERENCE });
        assert.deepEqual(
            failed(bad).map((c) => [c.check, c.detail]),
            [
                ["velero-references", "Schedule/velero/velero-daily (Pulumi resource daily) names location primary, which is not rendered"],
                ["crd-schema", "against chart mini-velero-0.1.0 (schedules.velero.io): /spec: field ttl is not in the CRD (the API server would prune it)"],
            ],
        );
    });

    it("no-plaintext-secret: the repository password put into a ConfigMap through the values", () => {
        const leaked = withValues(base.get("prod")!.release, (v) => ({ ...v, configMaps: { ...(v.configMaps as object), leak: { data: { password: STACK_SECRETS.repoPassword } } } }));
        const r = renderRelease(leaked, base.get("prod")!.chart);
        const check = only(checkNoPlaintextSecrets(r.objects, r.release, secretValuesOf(runs.get("prod")!, STACK_SECRETS)), "no-plaintext-secret");
        assert.equal(check.status, "fail");
        assert.match(check.detail, /ConfigMap\/velero\/velero-leak data\.password holds config repoPassword in plain text/);
        assert.match(check.detail, /values\.configMaps\.leak\.data\.password holds config repoPassword but is not a secret input/);
        // The value itself never appears in the report.
        assert.ok(!check.detail.includes(STACK_SECRETS.repoPassword));
    });

    it("no-plaintext-secret: the same value passed as a secret input is not reported in the values", () => {
        const marked = { ...withValues(base.get("prod")!.release, (v) => ({ ...v, credentials: { extraEnvVars: { PASSWORD: STACK_SECRETS.repoPassword } } })), secretValuePaths: ["credentials.extraEnvVars"] };
        const check = only(checkNoPlaintextSecrets([], marked, secretValuesOf(runs.get("prod")!, STACK_SECRETS)), "no-plaintext-secret");
        assert.equal(check.status, "pass");
    });

    it("the engine's secret inputs are among the secrets looked for", () => {
        const labels = secretValuesOf(runs.get("prod")!).map((s) => s.label);
        assert.ok(labels.includes("gitops-dr-prod-velero-repo-credentials input stringData.repository-password"), JSON.stringify(labels));
    });

    it("crd-schema: an accessMode the CRD does not allow", () => {
        const r = renderRelease(
            withValues(base.get("drill")!.release, (v) => {
                (v.configuration as { backupStorageLocation: Record<string, unknown>[] }).backupStorageLocation[0].accessMode = "Readonly";
                return v;
            }),
            base.get("drill")!.chart,
        );
        const checks = checkStack({ run: runs.get("drill")!, renders: [r], stackSecrets: STACK_SECRETS, referenceDir: NO_REFERENCE });
        const bsl = checks.find((c) => c.check === "crd-schema" && c.subject.startsWith("BackupStorageLocation/velero/source"))!;
        assert.equal(bsl.status, "fail");
        assert.match(bsl.detail, /\/spec\/accessMode must be equal to one of the allowed values: \["ReadOnly","ReadWrite"\]/);
    });

    it("a wrong value shape is refused by the fixture's own values.schema.json before anything renders", () => {
        const release = withValues(base.get("prod")!.release, (v) => ({ ...v, nodeAgent: { extraArgs: "--node-agent-configmap=velero-node-agent-config" } }));
        assert.throws(() => renderRelease(release, base.get("prod")!.chart), (e: unknown) => e instanceof HelmError && /nodeAgent(\/|\.)extraArgs/.test(e.stderr));
    });
});

describe("CRD validation", () => {
    // The fixture chart's own crds/, so these cases run with or without ../shared.
    const catalog = new CrdCatalog();
    before(() => {
        for (const f of fs.readdirSync(path.join(FIXTURE_CHART, "crds"))) {
            catalog.addFrom(parseManifests(fs.readFileSync(path.join(FIXTURE_CHART, "crds", f), "utf8"), f), `fixture ${f}`);
        }
        assert.equal(catalog.size, 2);
    });

    const schedule = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: "velero.io/v1", kind: "Schedule", metadata: { name: "velero-daily", namespace: "velero" }, spec });

    it("a registered Schedule whose field sits at the wrong level: the API server would prune it", () => {
        const [r] = validateCustomResources([{ object: schedule({ schedule: "0 2 * * *", template: {}, ttl: "720h" }), origin: "Pulumi resource daily" }], catalog);
        assert.equal(r.status, "fail");
        assert.match(r.detail, /\/spec: field ttl is not in the CRD \(the API server would prune it\)/);
    });

    it("x-kubernetes-preserve-unknown-fields keeps what it says", () => {
        const [r] = validateCustomResources([{ object: schedule({ schedule: "0 2 * * *", template: { ttl: "720h", anything: true } }), origin: "test" }], catalog);
        assert.equal(r.status, "pass", r.detail);
    });

    it("an object of a checked group without a CRD fails and says how to provide one", () => {
        const application = { object: { apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "root" } }, origin: "test" };
        const [r] = validateCustomResources([application], catalog);
        assert.equal(r.status, "fail");
        assert.match(r.detail, /no CRD for argoproj\.io\/v1alpha1 Application .*GITOPS_DR_REFERENCE_DIR/);
        // A render that leaves the owning chart out on purpose (--only) only warns.
        assert.equal(validateCustomResources([application], catalog, { missingCrd: "warn" })[0].status, "warn");
    });

    it("objects of other groups are not checked", () => {
        assert.deepEqual(validateCustomResources([{ object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }, origin: "test" }], catalog), []);
    });

    it("nullable becomes a null type, and an object without properties prunes everything", () => {
        assert.deepEqual(crdSchemaToJsonSchema({ type: "object", properties: { a: { type: "string", nullable: true }, b: { type: "object" } } }), {
            type: "object",
            properties: { a: { type: ["string", "null"] }, b: { type: "object", additionalProperties: false } },
            additionalProperties: false,
        });
    });

    it("falls back to the reference CRDs when no rendered chart has them", function () {
        const dir = referenceDir();
        if (dir === undefined) {
            console.log("      pending: no ../shared/reference (or GITOPS_DR_REFERENCE_DIR) to fall back to");
            this.skip();
        }
        const fallback = crdCatalog([], dir);
        const objects = [
            { object: { apiVersion: "velero.io/v1", kind: "Restore", metadata: { name: "r" }, spec: { scheduleName: "velero-daily", existingResourcePolicy: "none" } }, origin: "test" },
            { object: { apiVersion: "argoproj.io/v1alpha1", kind: "AppProject", metadata: { name: "p" }, spec: { sourceRepos: ["*"], destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }] } }, origin: "test" },
            { object: { apiVersion: "velero.io/v1", kind: "Restore", metadata: { name: "bad" }, spec: { scheduleName: "velero-daily", existingResourcePolicy: "overwrite", restorePVs: "yes" } }, origin: "test" },
        ];
        const [restore, project, bad] = validateCustomResources(objects, fallback);
        assert.equal(restore.status, "pass", restore.detail);
        assert.match(restore.detail, /velero-1\.18-crds\/restores\.yaml/);
        assert.equal(project.status, "pass", project.detail);
        assert.equal(bad.status, "fail");
        assert.match(bad.detail, /\/spec\/restorePVs must be boolean,null|\/spec\/restorePVs must be boolean/);
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
        values: { configs: { cm: { create: true, "resource.exclusions": "- kinds: [Secret]\n" }, params: { "server.insecure": true } } },
        secretValuePaths: [],
    };
    const cm = (data: Record<string, string>): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "argocd-cm", namespace: "argocd" }, data });
    const params: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "argocd-cmd-params-cm" }, data: { "server.insecure": "true" } };

    it("passes when every configs.cm and configs.params key reaches its ConfigMap", () => {
        assert.deepEqual(failed(checkArgoCdFacts([cm({ "resource.exclusions": "- kinds: [Secret]\n" }), params], release)), []);
    });

    it("fails when resource.exclusions is not what the values say", () => {
        const check = only(checkArgoCdFacts([cm({ "resource.exclusions": "- kinds: [ConfigMap]\n" }), params], release), "argocd-argocd-cm");
        assert.equal(check.status, "fail");
        assert.equal(check.detail, "argocd-cm resource.exclusions differs from configs.cm.resource.exclusions");
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
                console.log(`      skipped: ${resolved.source} gives ${resolved.metadata.name} ${resolved.metadata.version}, not ${pin.name} ${pin.version}`);
                this.skip();
            }
            let rendered = 0;
            for (const stack of Object.keys(STACK_SPECS)) {
                const result = await renderStack(stack, { charts: { [pin.name]: resolved.path }, onlyCharts: [pin.name] });
                for (const r of result.renders) {
                    rendered++;
                    assert.ok(r.objects.some((o) => o.kind === "CustomResourceDefinition"), `${stack}: the chart's CRDs are rendered`);
                }
                assert.deepEqual(failed(result.checks), [], stack);
                assert.ok(result.checks.filter((c) => c.check === "chart-rendered").every((c) => c.status === "pass"));
            }
            if (rendered === 0) {
                // Not registered by the program yet: render it with its defaults and check its own custom resources.
                const release: ReleaseRecord = { urn: "urn:test", resourceName: pin.name, releaseName: pin.name, namespace: pin.name, chart: pin.name, version: pin.version, repo: pin.repo, values: {}, secretValuePaths: [] };
                const r = renderRelease(release, resolved);
                const crds = r.objects.filter((o) => o.kind === "CustomResourceDefinition");
                assert.ok(crds.length > 0, `${pin.name} renders no CRD with --include-crds`);
                const objects = r.objects.map((object) => ({ object, origin: "defaults" }));
                assert.deepEqual(failed(validateCustomResources(objects, crdCatalog([r], undefined))), []);
            }
        });
    }
});
