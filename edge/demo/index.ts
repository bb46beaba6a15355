// The demo page served at `/`.
export { demoPage, type DemoPage } from './page.ts';
