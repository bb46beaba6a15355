// Cluster configuration (which node holds which shards) and a local multi-process cluster.
export { BatchingConfig, ClusterConfig, ConfigError, NodeConfig, nodeConfig, parseClusterConfig, planShards, readClusterConfig, shardReplicas } from './config.ts';
export { freePort, startLocalCluster, type LocalCluster, type LocalClusterOptions, type LocalNode } from './local-cluster.ts';
