# The state machine (in one module) is created with a role whose logging permissions are
# attached in another module. module.machine only waits for the role ARN, not for the
# attachment, and a depends_on can only name what its own module declares
# (https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on): the
# ordering belongs on the module block, depends_on = [module.role].
module "role" {
  source = "./modules/role"
}

module "machine" {
  source   = "./modules/machine"
  role_arn = module.role.arn
}
