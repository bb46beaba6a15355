// Network addresses: parsing IPv4/IPv6, loopback hosts, and the rate-limit bucket of a client address.
export { clientBucket, isLoopbackHost, parseIp, type IpBytes } from './client-address.ts';
