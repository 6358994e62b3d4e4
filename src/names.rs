//! Every name the policy shares with upstream and with users, in one place: the label,
//! the annotations, the env vars, the proxy containers and the token paths.

/// Every annotation and label of Azure Workload Identity starts with this.
pub const PREFIX: &str = "azure.workload.identity/";
/// The Pod label that opts a Pod in; only the exact value `"true"` selects it.
pub const USE_LABEL: &str = "azure.workload.identity/use";

// ServiceAccount annotations.
pub const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
pub const TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";

// Pod annotations (the expiration is also read from the ServiceAccount).
pub const TOKEN_EXPIRATION_ANNOTATION: &str =
    "azure.workload.identity/service-account-token-expiration";
pub const SKIP_CONTAINERS_ANNOTATION: &str = "azure.workload.identity/skip-containers";
pub const INJECT_PROXY_ANNOTATION: &str = "azure.workload.identity/inject-proxy-sidecar";
pub const PROXY_PORT_ANNOTATION: &str = "azure.workload.identity/proxy-sidecar-port";
/// `azure.workload.identity/use-<suffix>` turns on the custom token endpoint for a Pod.
pub const CUSTOM_ENDPOINT_ANNOTATION_PREFIX: &str = "azure.workload.identity/use-";

// Injected env vars, in the order they are appended.
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
pub const AZURE_KUBERNETES_TOKEN_PROXY: &str = "AZURE_KUBERNETES_TOKEN_PROXY";
pub const AZURE_KUBERNETES_SNI_NAME: &str = "AZURE_KUBERNETES_SNI_NAME";
pub const AZURE_KUBERNETES_CA_FILE: &str = "AZURE_KUBERNETES_CA_FILE";
pub const AZURE_KUBERNETES_CA_DATA: &str = "AZURE_KUBERNETES_CA_DATA";

// The proxy.
pub const DEFAULT_PROXY_PORT: i64 = 8000;
pub const PROXY_CONTAINER: &str = "azwi-proxy";
pub const PROXY_INIT_CONTAINER: &str = "azwi-proxy-init";

// The token volume.
/// The volume name of the v1.6 layout is this prefix and a hash of the Pod's name.
pub const RESERVED_PREFIX: &str = "azure-workload-identity-reserved-";
/// Where the token endpoint's CA is projected, relative to the mount path.
pub const CA_PATH: &str = "ca-cert/ca.crt";
/// The v1.6 layout.
pub const MOUNT_PATH: &str = "/var/run/secrets/azure/wi";
pub const TOKEN_PATH: &str = "token/azure-identity-token";
/// The layout of upstream releases up to v1.5.
pub const LEGACY_VOLUME_NAME: &str = "azure-identity-token";
pub const LEGACY_MOUNT_PATH: &str = "/var/run/secrets/azure/tokens";
pub const LEGACY_TOKEN_PATH: &str = "azure-identity-token";
