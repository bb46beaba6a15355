// A Workers module that runs the scenario on the ScenarioInput POSTed to it (runtimes.test.ts
// serves it from workerd through Miniflare).
import { runScenario, type ScenarioInput } from './scenario.js';

export default {
  async fetch(request: Request): Promise<Response> {
    try {
      return Response.json(await runScenario((await request.json()) as ScenarioInput));
    } catch (e) {
      return Response.json({ failed: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }, { status: 500 });
    }
  },
};
