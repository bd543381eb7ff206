/** promtool as the alert tests run it: one unit-test document written into the test's directory, then run. */
import { SpawnSyncReturns, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { stringify } from "yaml";

/** Writes `document` (promtool's rule unit-test format) as `<dir>/<name>.test.yaml` and runs `promtool test rules`. */
export function promtoolTestRules(dir: string, name: string, document: object): SpawnSyncReturns<string> {
    const file = path.join(dir, `${name}.test.yaml`);
    fs.writeFileSync(file, stringify(document));
    return spawnSync("promtool", ["test", "rules", file], { encoding: "utf8", timeout: 120_000 });
}
