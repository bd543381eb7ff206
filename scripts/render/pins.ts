/**
 * The chart-pin check: a release deploys a chart pinned in components/versions.ts (or that chart from a mirror,
 * docs/mirrors.md), and the chart rendered for it is that chart.
 */
import { PINNED_CHARTS as MIRROR_PINS, pinnedChart } from "../../components/mirrors";
import { ChartRef } from "./helm";
import { ReleaseRecord } from "./records";
import { CheckResult, result } from "./report";

/** Every chart the program may deploy, as pinned in components/versions.ts. */
export const PINNED_CHARTS: readonly ChartRef[] = MIRROR_PINS;

/** The release's chart is one pinned in components/versions.ts, and the chart rendered is that chart. */
export function checkChartPin(
    release: ReleaseRecord,
    rendered: { readonly name: string; readonly version: string; readonly source: string },
    pins: readonly ChartRef[] = PINNED_CHARTS,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    // A chart from an OCI mirror or an archive (docs/mirrors.md) must still be the pin's name and version. An
    // HTTPS mirror shows as another repository: reported, with the hint, since the pin cannot tell it apart.
    const mirrored = release.chart.startsWith("oci://") || release.chart.endsWith(".tgz");
    const pin = pins.find((p) => p.name === release.chart) ?? (mirrored ? pinnedChart(release.chart) : undefined);
    const problems: string[] = [];
    if (pin === undefined) {
        problems.push(`chart ${release.chart} is not pinned in components/versions.ts`);
    } else {
        if (release.version !== pin.version && !release.chart.endsWith(".tgz")) {
            problems.push(`version ${release.version} is not the pinned ${pin.version}`);
        }
        if (!mirrored && release.repo !== pin.repo) {
            problems.push(
                `repository ${String(release.repo)} is not the pinned ${pin.repo}${release.repo?.startsWith("https://") === true ? " (an HTTPS mirror? docs/mirrors.md)" : ""}`,
            );
        }
    }
    const results = [
        result(
            "chart-pin",
            subject,
            problems,
            `${release.chart} ${release.version} from ${String(release.repo)}, as pinned`,
        ),
    ];
    const same = rendered.name === release.chart && rendered.version === release.version;
    results.push({
        check: "chart-rendered",
        subject,
        status: same ? "pass" : "warn",
        detail: same
            ? `rendered with ${rendered.name} ${rendered.version} (${rendered.source})`
            : `rendered with ${rendered.name} ${rendered.version} from ${rendered.source}, not ${release.chart} ${release.version}: these results speak for that chart only`,
    });
    return results;
}
