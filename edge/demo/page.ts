// Placeholder until the demo page lands.
export function demoPage(): string {
  return '<!doctype html><title>edgesearch</title><p>edgesearch</p>';
}
