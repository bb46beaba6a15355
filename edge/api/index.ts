// The edge's HTTP API.
export { createApp, type EdgeApp } from './app.ts';
