module "fn" {
  source = "./fn"
  name   = "worker"
}
