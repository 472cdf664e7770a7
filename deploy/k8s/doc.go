// Package k8s holds dualread's Kubernetes manifests (kustomize: base/ and
// overlays/) and, in its tests, their proof: every kustomization renders,
// every object decodes strictly into its Kubernetes API type, every
// container runs the image deploy/docker/Dockerfile builds with a
// subcommand and flags that binary accepts, ports, probes, Services and
// $(VAR) references line up, dualread.yaml passes adapter/config's loader,
// and the InfluxDB setup Job works against a real InfluxDB. See
// deploy/README.md.
package k8s
