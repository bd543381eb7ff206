/**
 * Which stacks render and how: the stacks `npm run render` knows, how the engine runs each, and the pipeline
 * from a program run to its rendered releases (every chart resolved first, then `helm template`) and every
 * check over them.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { pinnedChart } from "../../components/mirrors";
import { ARGO_CD_CHART, VELERO_CHART } from "../../components/versions";
import { ProgramRun, ROOT, RunOptions, runProgram } from "../../engine";
import { STACK_REFERENCES, STACK_SECRETS } from "../../engine";
import { STACKS, STACK_NAMES, stackRunOptions } from "../../engine";
import { argoCdExpectations, checkArgoCdFacts, defaultExclusionsOf } from "./argocd";
import { crdCatalog, referenceDir, validateCustomResources } from "./crds";
import {
    ChartUnavailableError,
    ChartsUnavailableError,
    PullOptions,
    ResolvedChart,
    resolveChart,
    showValues,
} from "./helm";
import { ReleaseRender, renderRelease } from "./manifests";
import { checkChartPin } from "./pins";
import { ObjectOrigin, ReleaseRecord, registeredCustomResources, releasesOf, secretValuesOf } from "./records";
import { CheckResult } from "./report";
import { checkNoPlaintextSecrets } from "./secrets";
import { checkVeleroFacts, veleroExpectations } from "./velero";

/** How the engine runs one stack for rendering. */
export interface StackSpec {
    /** What the stack is and where its inputs come from, printed above the manifests. */
    readonly description: string;
    readonly run: RunOptions;
}

/** The output header's warning: the secrets and a source stack's outputs in a render are test values. */
export const PLACEHOLDERS =
    "Secrets are placeholder test values (engine/stacks.ts STACK_SECRETS; encrypted stack-file values become test-secret-for-<key>); " +
    "a source stack's outputs are engine/stacks.ts PROD_OUTPUTS, not the real prod stack's.";

/**
 * The stacks `npm run render` knows by name: the ones every script knows (engine/stacks.ts), and
 * `recover-example` as another name for `recover`. Any other stack with a `Pulumi.<stack>.yaml` also renders.
 */
export const STACK_SPECS: Readonly<Record<string, StackSpec>> = Object.fromEntries(
    [...STACK_NAMES.map((name) => [name, name] as const), ["recover-example", "recover"] as const].map(
        ([alias, name]) => [
            alias,
            {
                description: `${alias}: ${STACKS[name].file} (${STACKS[name].name})`,
                run: stackRunOptions(STACKS[name]),
            },
        ],
    ),
);

/** The spec of a stack: from {@link STACK_SPECS}, else its `Pulumi.<stack>.yaml` with placeholder secrets. */
export function stackSpec(stack: string): StackSpec {
    const known = STACK_SPECS[stack];
    if (known !== undefined) {
        return known;
    }
    if (/^[A-Za-z0-9_.-]+$/.test(stack) && fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))) {
        return {
            description: `${stack}: Pulumi.${stack}.yaml`,
            run: { stack, secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES },
        };
    }
    throw new Error(
        `Unknown stack "${stack}". Known: ${Object.keys(STACK_SPECS).join(", ")}, or any stack with a Pulumi.<stack>.yaml.`,
    );
}

export interface CheckInputs {
    readonly run: ProgramRun;
    readonly renders: readonly ReleaseRender[];
    /** The stack's secret config values, by key. */
    readonly stackSecrets?: Readonly<Record<string, string>>;
    /** Directory of reference `*-crds/` folders, the CRD fallback. Defaults to {@link referenceDir}. */
    readonly referenceDir?: string;
    /** See {@link CrdValidationOptions.missingCrd}. Defaults to `fail`. */
    readonly missingCrd?: "fail" | "warn";
}

/** Every check over a rendered stack. */
export function checkStack(inputs: CheckInputs): CheckResult[] {
    const { run, renders } = inputs;
    const catalog = crdCatalog(renders, inputs.referenceDir ?? referenceDir());
    const secrets = secretValuesOf(run, inputs.stackSecrets);
    const results: CheckResult[] = [];
    const objects: ObjectOrigin[] = [
        ...renders.flatMap((r) => r.objects.map((object) => ({ object, origin: `release ${r.release.releaseName}` }))),
        ...registeredCustomResources(run),
    ];
    for (const r of renders) {
        results.push(...checkChartPin(r.release, { ...r.chart.metadata, source: r.chart.source }));
        results.push(...checkNoPlaintextSecrets(r.objects, r.release, secrets));
        const chart = pinnedChart(r.release.chart)?.name ?? r.release.chart;
        if (chart === VELERO_CHART.name) {
            results.push(...checkVeleroFacts(r.objects, r.release, veleroExpectations(run)));
        } else if (chart === ARGO_CD_CHART.name) {
            results.push(
                ...checkArgoCdFacts(
                    r.objects,
                    r.release,
                    argoCdExpectations(run, defaultExclusionsOf(showValues(r.chart.path))),
                ),
            );
        }
    }
    results.push(...validateCustomResources(objects, catalog, { missingCrd: inputs.missingCrd }));
    return results;
}

export interface RenderOptions {
    /** Local charts by chart name, e.g. `{ velero: "/tmp/velero-12.1.0.tgz" }`. */
    readonly charts?: Readonly<Record<string, string>>;
    readonly pull?: PullOptions;
    /** Directory of reference `*-crds/` folders. Defaults to {@link referenceDir}. */
    readonly referenceDir?: string;
    /**
     * Render only releases of these charts; every other release is reported as skipped, and a custom resource
     * whose CRD is then missing only warns. Defaults to all.
     */
    readonly onlyCharts?: readonly string[];
    /** A run of the program for this stack to reuse (its spec's run options), e.g. one a test already made. Defaults to a new run. */
    readonly run?: ProgramRun;
    /** How to run the stack, when it is not one {@link stackSpec} knows by name (a stack file given by path). */
    readonly spec?: StackSpec;
}

/** A whole stack, rendered and checked. */
export interface StackRender {
    readonly stack: string;
    readonly spec: StackSpec;
    readonly run: ProgramRun;
    readonly renders: readonly ReleaseRender[];
    readonly checks: readonly CheckResult[];
}

/** Runs the program for a stack, renders every Helm release it registers and checks the result. */
export async function renderStack(stack: string, options: RenderOptions = {}): Promise<StackRender> {
    const spec = options.spec ?? stackSpec(stack);
    const run = options.run ?? (await runProgram(spec.run));
    const skipped: CheckResult[] = [];
    const wanted: ReleaseRecord[] = [];
    for (const release of releasesOf(run)) {
        if (options.onlyCharts !== undefined && !options.onlyCharts.includes(release.chart)) {
            skipped.push({
                check: "release-skipped",
                subject: `release ${release.releaseName}`,
                status: "warn",
                detail: `chart ${release.chart} is not among --only ${options.onlyCharts.join(",")}: not rendered, not checked`,
            });
            continue;
        }
        if (release.repo === undefined && options.charts?.[release.chart] === undefined) {
            throw new Error(
                `release ${release.releaseName}: chart ${release.chart} has no repositoryOpts.repo; pass --chart ${release.chart}=<path>`,
            );
        }
        wanted.push(release);
    }
    // Every chart first, so that a machine without network learns in one run every chart it must provide.
    const charts: ResolvedChart[] = [];
    const unavailable: ChartUnavailableError[] = [];
    for (const release of wanted) {
        try {
            charts.push(
                await resolveChart(
                    { repo: release.repo ?? "", name: release.chart, version: release.version },
                    options.charts?.[release.chart],
                    options.pull,
                ),
            );
        } catch (e) {
            if (!(e instanceof ChartUnavailableError)) {
                throw e;
            }
            unavailable.push(e);
        }
    }
    if (unavailable.length === 1) {
        throw unavailable[0];
    }
    if (unavailable.length > 1) {
        throw new ChartsUnavailableError(unavailable);
    }
    const renders = wanted.map((release, i) => renderRelease(release, charts[i]));
    const checks = [
        ...skipped,
        ...checkStack({
            run,
            renders,
            stackSecrets: spec.run.secrets,
            referenceDir: options.referenceDir,
            missingCrd: options.onlyCharts === undefined ? "fail" : "warn",
        }),
    ];
    return { stack, spec, run, renders, checks };
}
