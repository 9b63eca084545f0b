"""The portal: buyers, monitors, accountants and admins sign in and work in a browser."""
