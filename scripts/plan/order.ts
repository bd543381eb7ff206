/**
 * The order of the steps: the recorded dependency relation among the selected resources, in waves, with each
 * resource's nearest earlier steps (the transitive reduction).
 */
import { ProgramRun, RegisteredResource } from "../../engine";

/** Every URN a resource waits for, directly or through a chain of dependencies. */
function reachable(run: ProgramRun, r: RegisteredResource): Set<string> {
    const seen = new Set<string>();
    const stack = [...run.directDependencies(r)];
    while (stack.length > 0) {
        const urn = stack.pop()!;
        if (!seen.has(urn)) {
            seen.add(urn);
            const next = run.resources.find((x) => x.urn === urn);
            if (next !== undefined) {
                stack.push(...run.directDependencies(next));
            }
        }
    }
    return seen;
}

/**
 * The resources in an order that respects the dependency relation, in waves (Kahn's algorithm, a wave at a
 * time): a resource comes in the first wave after every resource it waits for. Within a wave the order is by
 * logical name, not by registration: the SDK registers independent resources in whatever order their inputs
 * resolve, which changes with the config (e.g. the number of namespaces). Each resource comes with the
 * earlier ones it waits on directly, in plan order.
 */
export function dependencyOrder(
    run: ProgramRun,
    selected: readonly RegisteredResource[],
): { resource: RegisteredResource; after: string[] }[] {
    const urns = new Set(selected.map((r) => r.urn));
    const reach = new Map(selected.map((r) => [r.urn, reachable(run, r)]));
    const before = new Map(
        selected.map((r) => [r.urn, [...reach.get(r.urn)!].filter((u) => urns.has(u) && u !== r.urn)]),
    );
    const position = new Map<string, number>();
    const ordered: { resource: RegisteredResource; after: string[] }[] = [];
    while (ordered.length < selected.length) {
        const wave = selected
            .filter((r) => !position.has(r.urn) && before.get(r.urn)!.every((u) => position.has(u)))
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
        if (wave.length === 0) {
            throw new Error(
                `the dependency graph has a cycle among: ${selected
                    .filter((r) => !position.has(r.urn))
                    .map((r) => r.name)
                    .join(", ")}`,
            );
        }
        for (const r of wave) {
            const earlier = before.get(r.urn)!;
            // Only the nearest: an earlier step that another earlier step already waits for is implied.
            const direct = earlier
                .filter((u) => !earlier.some((v) => v !== u && reach.get(v)!.has(u)))
                .sort((u, v) => position.get(u)! - position.get(v)!);
            position.set(r.urn, ordered.length);
            ordered.push({ resource: r, after: direct });
        }
    }
    return ordered;
}
