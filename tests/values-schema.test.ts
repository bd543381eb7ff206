/**
 * Every stack's Velero values against the velero chart's own values.schema.json, checked by a real Helm the way
 * `helm install` checks them, with ajv as a second opinion.
 *
 * The schema is a chart fact: it is read at test time from the upstream reference copy in
 * ../shared/reference/velero-chart-12.1.0 (or GITOPS_DR_REFERENCE_DIR), never copied into the project. A throwaway
 * chart is built in a temp directory from the chart's Chart.yaml identity, values.schema.json and values.yaml,
 * plus one template of ours. values.yaml is needed because Helm validates the chart's defaults coalesced with the
 * release's values, not the release's values alone: the schema requires keys (upgradeCRDsJob, kubectl, rbac, ...)
 * that only the defaults provide.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import Ajv from "ajv";
import { parse as parseYaml } from "yaml";

import * as versions from "../components/versions";
import { VELERO_CHART } from "../components/versions";
import { ChartRef, HelmError, helmTemplate } from "../scripts/render/helm";
import { parseManifests } from "../scripts/render/manifests";
import { PINNED_CHARTS } from "../scripts/render/pins";
import { ReleaseRecord, releasesOf } from "../scripts/render/records";
import { STACK_SPECS } from "../scripts/render/stacks";
import { runProgram } from "../engine";
import { needReference, referencePath } from "./reference";

/** Helm's coalescing of chart defaults with release values (pkg/chart/common/util/coalesce.go): maps merge, anything else replaces, null deletes. */
function coalesce(defaults: unknown, values: unknown): unknown {
    const isMap = (v: unknown): v is Record<string, unknown> =>
        v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isMap(defaults) || !isMap(values)) {
        return values === undefined ? defaults : values;
    }
    const out: Record<string, unknown> = { ...defaults };
    for (const [k, v] of Object.entries(values)) {
        if (v === null) {
            delete out[k];
        } else {
            out[k] = coalesce(defaults[k], v);
        }
    }
    return out;
}

let registered: Promise<Map<string, ReleaseRecord[]>> | undefined;

/** The Helm releases every known stack registers (one engine run per stack, shared by the describes below). */
function releasesByStack(): Promise<Map<string, ReleaseRecord[]>> {
    registered ??= (async () => {
        const found = new Map<string, ReleaseRecord[]>();
        for (const [stack, spec] of Object.entries(STACK_SPECS)) {
            found.set(stack, releasesOf(await runProgram(spec.run)));
        }
        return found;
    })();
    return registered;
}

/** Velero values with one shape error. */
type Breakage = (values: Record<string, unknown>) => Record<string, unknown>;
const WRONG_SHAPES: { name: string; pointer: string; want: string; breakage: Breakage }[] = [
    {
        // The chart pastes extraArgs with toYaml under `args:`: a string becomes one arg that is not a list item.
        name: "nodeAgent.extraArgs as a string",
        pointer: "/nodeAgent/extraArgs",
        want: "array",
        breakage: (v) => ({ ...v, nodeAgent: { extraArgs: "--node-agent-configmap=velero-node-agent-config" } }),
    },
    {
        // The chart's pre-3.0 shape: its template renders a location only from a list (`typeIs "[]interface {}"`),
        // so a single object silently gives a Velero with no backup location.
        name: "configuration.backupStorageLocation as a single object",
        pointer: "/configuration/backupStorageLocation",
        want: "array",
        breakage: (v) => {
            const configuration = v.configuration as Record<string, unknown>;
            const [first] = configuration.backupStorageLocation as unknown[];
            return { ...v, configuration: { ...configuration, backupStorageLocation: first } };
        },
    },
];

describe("Helm releases against the pins in components/versions.ts", () => {
    let releases: Map<string, ReleaseRecord[]>;
    before(async () => {
        releases = await releasesByStack();
    });

    for (const stack of Object.keys(STACK_SPECS)) {
        it(`${stack}: every release pins the chart, version and repository of components/versions.ts`, () => {
            const all = releases.get(stack) ?? [];
            assert.ok(
                all.some((r) => r.chart === VELERO_CHART.name),
                `${stack} registers no velero release`,
            );
            for (const r of all) {
                const pin = PINNED_CHARTS.find((p) => p.name === r.chart);
                assert.ok(pin !== undefined, `${stack}: chart ${r.chart} is not pinned in components/versions.ts`);
                assert.deepEqual(
                    { chart: r.chart, version: r.version, repo: r.repo },
                    { chart: pin.name, version: pin.version, repo: pin.repo },
                );
            }
        });
    }

    it("every chart constant in components/versions.ts is one the renderer knows", () => {
        const charts = (Object.values(versions) as unknown[]).filter(
            (v): v is ChartRef => typeof v === "object" && v !== null && "repo" in v && "name" in v && "version" in v,
        );
        assert.deepEqual(charts.map((c) => c.name).sort(), PINNED_CHARTS.map((c) => c.name).sort());
    });
});

describe("Velero values against the chart's values.schema.json", function () {
    let chartDir: string;
    let schema: Record<string, unknown>;
    let defaults: unknown;
    let releases: Map<string, ReleaseRecord[]>;

    before(async function () {
        const chart = `velero-chart-${VELERO_CHART.version}`;
        needReference(this, "the Velero values-schema tests", [
            [chart, "values.schema.json"],
            [chart, "values.yaml"],
        ]);
        const reference = { dir: referencePath(chart) };
        schema = JSON.parse(fs.readFileSync(path.join(reference.dir, "values.schema.json"), "utf8")) as Record<
            string,
            unknown
        >;
        const valuesYaml = fs.readFileSync(path.join(reference.dir, "values.yaml"), "utf8");
        defaults = parseYaml(valuesYaml);

        chartDir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-velero-schema-"));
        fs.writeFileSync(
            path.join(chartDir, "Chart.yaml"),
            `apiVersion: v2\nname: ${VELERO_CHART.name}\nversion: ${VELERO_CHART.version}\n`,
        );
        fs.writeFileSync(path.join(chartDir, "values.schema.json"), JSON.stringify(schema));
        fs.writeFileSync(path.join(chartDir, "values.yaml"), valuesYaml);
        fs.mkdirSync(path.join(chartDir, "templates"));
        // Ours: shows which values reached the templates after coalescing.
        fs.writeFileSync(
            path.join(chartDir, "templates", "values.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values\ndata:\n  nodeAgentExtraArgs: {{ .Values.nodeAgent.extraArgs | toJson | quote }}\n  locations: {{ .Values.configuration.backupStorageLocation | toJson | quote }}\n",
        );

        releases = await releasesByStack();
    });

    after(() => {
        if (chartDir !== undefined) {
            fs.rmSync(chartDir, { recursive: true, force: true });
        }
    });

    const veleroOf = (stack: string): ReleaseRecord => {
        const found = (releases.get(stack) ?? []).filter((r) => r.chart === VELERO_CHART.name);
        assert.equal(found.length, 1, `${stack} registers ${found.length} velero releases`);
        return found[0];
    };

    it("the schema declares JSON Schema draft-07, which Ajv's default class implements", () => {
        // Were it 2019-09 or 2020-12, the ajv check below would need Ajv2019/Ajv2020.
        assert.equal(schema.$schema, "http://json-schema.org/draft-07/schema#");
    });

    for (const stack of Object.keys(STACK_SPECS)) {
        it(`${stack}: Helm accepts the Velero values against the chart's schema`, () => {
            const release = veleroOf(stack);
            const out = parseManifests(
                helmTemplate({
                    releaseName: release.releaseName,
                    chartPath: chartDir,
                    namespace: release.namespace,
                    values: release.values,
                }),
            );
            const data = (out.find((o) => o.metadata?.name === "values")?.data ?? {}) as Record<string, string>;
            // What Helm validated is what the templates see: the program's lists, not the chart's defaults.
            const nodeAgent = release.values.nodeAgent as { extraArgs?: unknown };
            assert.deepEqual(JSON.parse(data.nodeAgentExtraArgs), nodeAgent.extraArgs ?? []);
            assert.deepEqual(
                JSON.parse(data.locations),
                (release.values.configuration as { backupStorageLocation: unknown }).backupStorageLocation,
            );
        });

        it(`${stack}: ajv agrees on the coalesced values`, () => {
            const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
            const ok = validate(coalesce(defaults, veleroOf(stack).values));
            assert.ok(ok, JSON.stringify(validate.errors, null, 2));
        });
    }

    for (const shape of WRONG_SHAPES) {
        it(`Helm refuses ${shape.name} with its schema message`, () => {
            const release = veleroOf("prod");
            assert.throws(
                () =>
                    helmTemplate({
                        releaseName: release.releaseName,
                        chartPath: chartDir,
                        namespace: release.namespace,
                        values: shape.breakage({ ...release.values }),
                    }),
                (e: unknown) => {
                    assert.ok(e instanceof HelmError, String(e));
                    assert.match(e.stderr, /values don't meet the specifications of the schema/);
                    // Helm 4 reports "at '/nodeAgent/extraArgs': got string, want array"; Helm 3 "nodeAgent.extraArgs: Invalid type. Expected: array".
                    const dotted = shape.pointer.slice(1).replace(/\//g, ".");
                    assert.ok(e.stderr.includes(`'${shape.pointer}'`) || e.stderr.includes(dotted), e.stderr);
                    assert.match(e.stderr, new RegExp(`want ${shape.want}|Expected: ${shape.want}`));
                    return true;
                },
            );
        });

        it(`ajv refuses ${shape.name} at ${shape.pointer}`, () => {
            const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
            assert.equal(validate(coalesce(defaults, shape.breakage({ ...veleroOf("prod").values }))), false);
            assert.ok(
                (validate.errors ?? []).some((e) => e.instancePath === shape.pointer && e.keyword === "type"),
                JSON.stringify(validate.errors),
            );
        });
    }
});
