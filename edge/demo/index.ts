// The demo page served at `/`.
export { demoPage } from './page.ts';
