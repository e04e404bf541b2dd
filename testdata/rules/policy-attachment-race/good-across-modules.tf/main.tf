# The fix bad-across-modules.tf gets: the module block waits for the whole role module, so
# every resource in module.machine is created after the attachment
# (https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on).
module "role" {
  source = "./modules/role"
}

module "machine" {
  source     = "./modules/machine"
  role_arn   = module.role.arn
  depends_on = [module.role]
}
